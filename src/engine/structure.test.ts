import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findCycle, importsOf, tsFiles } from "../../test/support/import-graph";

// The engine is an internal package: the rest of the code base sees only its index, and its
// modules form no import cycle (type-only imports included, since they couple modules all the same).

const engineRoot = dirname(fileURLToPath(import.meta.url));
const srcRoot = resolve(engineRoot, "..");
const repoRoot = resolve(srcRoot, "..");

describe("src/engine as a package", () => {
  it("has no import cycle", () => {
    const cycle = findCycle(tsFiles(engineRoot));
    expect(cycle === null ? null : cycle.map((f) => relative(repoRoot, f))).toBeNull();
  });

  it("is imported from outside only through its index", () => {
    const outside = [
      ...tsFiles(srcRoot),
      ...tsFiles(join(repoRoot, "scripts")),
      ...tsFiles(join(repoRoot, "test")),
    ].filter((f) => !f.startsWith(`${engineRoot}/`));
    const offenders = outside.flatMap((f) =>
      importsOf(f)
        .filter((target) => target.startsWith(`${engineRoot}/`) && target !== join(engineRoot, "index.ts"))
        .map((target) => `${relative(repoRoot, f)} → ${relative(repoRoot, target)}`),
    );
    expect(offenders).toEqual([]);
  });
});
