import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Workers forbid run-time code generation; the engine must never rely on it.
const root = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

const FORBIDDEN: Array<[string, RegExp]> = [
  ["eval(", /\beval\s*\(/],
  ["new Function", /\bnew\s+Function\b/],
  ["Function(...)", /(?<![.\w])Function\s*\(/],
  ["string timer", /\bset(?:Timeout|Interval)\s*\(\s*["'`]/],
  ["import() of data", /\bimport\s*\(\s*(?!["'])/],
];

describe("src/engine generates no code at run time", () => {
  const files = sources(root);
  it("has sources to check", () => {
    expect(files.length).toBeGreaterThan(5);
  });
  for (const file of files) {
    it(file.slice(root.length + 1), () => {
      // Comments may name the forbidden constructs (to explain why they are absent); code may not.
      const text = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/(^|\s)\/\/.*$/gm, "$1");
      for (const [name, re] of FORBIDDEN) expect(re.test(text), `${name} found`).toBe(false);
    });
  }
});

describe("the engine runs where code generation from strings is disallowed (as in Workers)", () => {
  it("compiles and validates under node --disallow-code-generation-from-strings", () => {
    const script = `
      const { compileSchema } = await import(${JSON.stringify(join(root, "index.ts"))});
      const c = await compileSchema({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        $defs: { tag: { $dynamicAnchor: "t", type: "string", pattern: "^[a-z]+$" } },
        type: "object",
        properties: { tags: { items: { $dynamicRef: "#t" } }, at: { format: "date-time" } },
        unevaluatedProperties: false,
      }, { formatAssertion: true });
      try { new Function("return 1"); console.log("eval-allowed"); } catch { console.log("eval-blocked"); }
      const ok = c.validate({ tags: ["a"], at: "2024-01-01T00:00:00Z" }, { enrich: true });
      const bad = c.validate({ tags: ["A"], x: 1 }, { output: "detailed" });
      console.log(JSON.stringify([ok.valid, bad.valid, bad.errors.length > 0]));
    `;
    const r = spawnSync(
      process.execPath,
      ["--disallow-code-generation-from-strings", "--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", cwd: join(root, "../..") },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["eval-blocked", "[true,false,true]"]);
  });
});
