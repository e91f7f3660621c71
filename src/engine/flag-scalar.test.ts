import { describe, expect, it } from "vitest";
import { compileSchema } from "./index";

// Flag mode's walks check a scalar value by its schema's rule (scalar-rule.ts) instead of calling
// its keywords' checks. Verdicts must be those of the error-collecting path, and valid documents
// must spend the same units, for every keyword a rule stands for.

const SCALARS: Array<[unknown, unknown[]]> = [
  [{ type: "string" }, ["a", 1, null, true, [], {}]],
  [{ type: "integer", minimum: 1, maximum: 5 }, [1, 5, 0, 6, 2.5, 3.0, "3"]],
  [{ type: ["string", "number", "boolean"] }, ["a", 1, false, null, [], {}]],
  [{ type: ["null", "array"] }, [null, [], {}, "a"]],
  [{ type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 }, [0, 0.5, 1, -1]],
  [{ enum: ["a", 1, null, true] }, ["a", 1, 1.0, null, true, false, "b", [], {}]],
  [{ const: "x" }, ["x", "y", ["x"], { x: 1 }]],
  [{ const: null }, [null, 0, false, {}]],
  [{ type: "string", enum: ["a", "b"] }, ["a", "c", 1]],
  [{ maxLength: 2 }, ["ab", "abc", "😀😀", "😀😀😀", 12345]],
  [{ minLength: 2 }, ["ab", "a", "😀", "😀😀", ""]],
  [
    { type: "string", minLength: 20, maxLength: 40 },
    ["a".repeat(20), "a".repeat(19), "😀".repeat(20), "a".repeat(41)],
  ],
  [{ pattern: "^[A-Z]{3}-[0-9]{4}$" }, ["ABC-1234", "abc-1234", 3]],
  [{ pattern: "(a|b)+c" }, ["xxabac", "xx", "c"]],
  [{ pattern: "^(?=a)ab" }, ["ab", "ba"]],
  [{ type: "string", format: "uuid" }, ["6f1c2a9e-3b7d-4c1e-9a2b-0d4e5f6a7b8c", "6f1c2a9e", 7]],
  [
    { type: "string", format: "email" },
    ["jane.doe@example.com", "joe..b@example.com", "a@xn--4gbwdl.xn--wgbh1c"],
  ],
  [{ format: "date-time", maxLength: 30 }, ["2024-05-01T12:34:56Z", "2024-02-30T00:00:00Z", 5]],
  [{ format: "no-such-format" }, ["anything"]],
  [{}, ["a", 1, null, [], {}]],
  [true, ["a", 1, null]],
];

async function paths(scalar: unknown) {
  // The closed record's walk, and an array's items: the two walks that read the rule.
  const record = await compileSchema(
    { type: "object", additionalProperties: false, properties: { v: scalar } },
    { formatAssertion: true },
  );
  const items = await compileSchema({ type: "array", items: scalar }, { formatAssertion: true });
  return [(x: unknown) => [record, { v: x }] as const, (x: unknown) => [items, [x, x]] as const];
}

function spent(compiled: Awaited<ReturnType<typeof compileSchema>>, doc: unknown, output: "flag" | "basic") {
  const pool = { remaining: 1_000_000 };
  const valid = compiled.validate(doc, { output, pool }).valid;
  return { valid, steps: 1_000_000 - pool.remaining };
}

describe("scalar rules in flag mode", () => {
  it("give the basic verdict, and spend what it does on valid values", async () => {
    for (const [scalar, instances] of SCALARS) {
      for (const wrap of await paths(scalar)) {
        for (const instance of instances) {
          const [compiled, doc] = wrap(instance);
          const flag = spent(compiled, doc, "flag");
          const basic = spent(compiled, doc, "basic");
          expect({ scalar, instance, valid: flag.valid }).toEqual({ scalar, instance, valid: basic.valid });
          if (basic.valid)
            expect({ scalar, instance, steps: flag.steps }).toEqual({ scalar, instance, steps: basic.steps });
        }
      }
    }
  });
});
