import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The engine is an internal package: the rest of the code base sees only its index, and its
// modules form no import cycle (type-only imports included, since they couple modules all the same).

const engineRoot = dirname(fileURLToPath(import.meta.url));
const srcRoot = resolve(engineRoot, "..");
const repoRoot = resolve(srcRoot, "..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/g;

/** The relative imports of a file, resolved to files (`./x` → x.ts or x/index.ts). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] as string;
    if (!spec.startsWith(".")) continue;
    const base = resolve(dirname(file), spec);
    const candidates = [base.endsWith(".ts") ? base : `${base}.ts`, join(base, "index.ts")];
    const hit = candidates.find((c) => {
      try {
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
    if (hit) out.push(hit);
  }
  return out;
}

/** One import cycle through `files`, as a list of paths, or null. */
function findCycle(files: string[]): string[] | null {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === "done") return null;
    if (state.get(f) === "open") return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, "open");
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      const cycle = visit(g);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(f, "done");
    return null;
  };
  for (const f of files) {
    const cycle = visit(f);
    if (cycle) return cycle;
  }
  return null;
}

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
