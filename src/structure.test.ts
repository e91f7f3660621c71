import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findCycle, tsFiles } from "../test/support/import-graph";

// The shape the code base keeps (STYLE.md): no import cycle anywhere in src (type-only imports
// included), and files that fit in a head, metaschema data aside.

const srcRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(srcRoot, "..");
const MAX_LINES = 400;

describe("src", () => {
  it("has no import cycle", () => {
    const cycle = findCycle(tsFiles(srcRoot));
    expect(cycle === null ? null : cycle.map((f) => relative(repoRoot, f))).toBeNull();
  });

  it(`has no source file over ${MAX_LINES} lines (metaschemas are data)`, () => {
    const long = tsFiles(srcRoot)
      .filter((f) => !f.includes("/metaschemas/") && !f.endsWith(".test.ts"))
      .map((f) => [relative(repoRoot, f), readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
