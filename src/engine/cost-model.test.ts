import { describe, expect, it } from "vitest";
import { compileSchema, ValidationLimitError } from "./index";

// The cost model: every subschema evaluation, element scanned and output unit spends from the one
// budget of a validate call, so the work of any schema/document pair is bounded by maxSteps.

const repeat = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

async function budgetOf(schema: unknown, document: unknown, maxSteps: number, output: "flag" | "basic") {
  const compiled = await compileSchema(schema);
  const started = performance.now();
  let kind: string | undefined;
  try {
    compiled.validate(document, { output, maxSteps });
  } catch (error) {
    if (!(error instanceof ValidationLimitError)) throw error;
    kind = error.kind;
  }
  return { kind, ms: performance.now() - started };
}

describe("one budget per validate call", () => {
  // Valid documents, so no early exit: each item runs every branch.
  it.each(["flag", "basic"] as const)("counts every anyOf branch (%s)", async (output) => {
    const schema = { items: { anyOf: repeat(5000, (i) => ({ const: i })) } };
    const { kind, ms } = await budgetOf(
      schema,
      repeat(80_000, () => 4999),
      2_000_000,
      output,
    );
    expect(kind).toBe("budget");
    expect(ms).toBeLessThan(5000);
  });

  const allKeys = Object.fromEntries(repeat(1000, (i) => [`p${i}`, i]));
  it.each([
    ["oneOf", { items: { oneOf: repeat(1000, (i) => ({ const: i })) } }, 999],
    ["allOf", { items: { allOf: repeat(1000, () => ({ type: "number" })) } }, 1],
    ["not", { items: { not: { not: { not: { not: { type: "string" } } } } } }, "x"],
    ["enum of objects", { items: { enum: repeat(1000, (i) => ({ i })) } }, { i: 999 }],
    ["required", { items: { required: Object.keys(allKeys) } }, allKeys],
  ])("counts %s", async (_name, schema, item) => {
    const { kind } = await budgetOf(
      schema,
      repeat(10_000, () => item),
      40_000,
      "flag",
    );
    expect(kind).toBe("budget");
  });

  it("counts every uniqueItems element and every property scanned", async () => {
    expect(
      (
        await budgetOf(
          { uniqueItems: true },
          repeat(200_000, (i) => i),
          100_000,
          "flag",
        )
      ).kind,
    ).toBe("budget");
    const object = Object.fromEntries(repeat(200_000, (i) => [`k${i}`, i]));
    expect((await budgetOf({ patternProperties: { "^x": true } }, object, 100_000, "flag")).kind).toBe(
      "budget",
    );
  });

  it("leaves ordinary documents well inside the default budget", async () => {
    const compiled = await compileSchema({ items: { anyOf: repeat(20, (i) => ({ const: i })) } });
    expect(compiled.validate(repeat(10_000, () => 19)).valid).toBe(true);
  });
});

describe("speculative errors", () => {
  it("holds a bounded number of error units and says the output is truncated", async () => {
    const schema = { items: { anyOf: repeat(40, () => ({ items: { type: "string" } })) } };
    const compiled = await compileSchema(schema);
    const result = compiled.validate(
      repeat(100, () => repeat(100, () => 0)),
      { output: "detailed", maxErrors: 100 },
    );
    expect(result.valid).toBe(false);
    expect(result.truncated).toBe(true);
    const count = (units: Array<{ errors?: unknown[] }> = []): number =>
      units.reduce((n, u) => n + 1 + count(u.errors as Array<{ errors?: unknown[] }>), 0);
    expect(count(result.errors)).toBeLessThan(3000);
  });

  it("keeps every error of a small failing anyOf", async () => {
    const compiled = await compileSchema({ anyOf: [{ type: "string" }, { type: "number" }] });
    const result = compiled.validate(null, { output: "detailed" });
    expect(result.truncated).toBeUndefined();
    expect(result.errors?.[0]?.errors).toHaveLength(2);
  });
});
