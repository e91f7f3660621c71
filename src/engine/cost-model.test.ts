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

  // Work that scales with what is scanned spends by its size, not one unit per keyword: each of
  // these took 0.4–16 s when it spent one unit (or none) per evaluation. Passing keywords under
  // allOf, failing ones under anyOf, so that every one of the 500 runs.
  const zeros = (n: number) => repeat(n, () => 0);
  it.each([
    [
      "uniqueItems by canonical text",
      { allOf: repeat(500, () => ({ uniqueItems: true })) },
      repeat(17, (i) => [...zeros(2800), i]),
    ],
    [
      "uniqueItems pairwise",
      { allOf: repeat(500, () => ({ uniqueItems: true })) },
      repeat(16, (i) => [...zeros(2900), i]),
    ],
    ["const of an array", { anyOf: repeat(500, () => ({ const: zeros(20_000) })) }, [...zeros(19_999), 1]],
    ["enum of arrays", { anyOf: repeat(500, () => ({ enum: [zeros(20_000)] })) }, [...zeros(19_999), 1]],
    [
      "minLength counting code points",
      { allOf: repeat(500, () => ({ minLength: 60_000 })) },
      "a".repeat(99_000),
    ],
    [
      "maxLength counting code points",
      { anyOf: repeat(500, () => ({ maxLength: 60_000 })) },
      "a".repeat(99_000),
    ],
  ])("spends %s by its size", async (_name, schema, document) => {
    expect((await budgetOf(schema, document, 400_000, "flag")).kind).toBe("budget");
    // One evaluation of the same keyword fits easily.
    const { allOf, anyOf } = schema as { allOf?: object[]; anyOf?: object[] };
    const one = (allOf ?? anyOf)?.[0];
    expect((await budgetOf(one, document, 400_000, "flag")).kind).toBeUndefined();
  });

  it("spends format checks and draft-07 content checks by the string's length", async () => {
    const many = (keyword: object) => ({ allOf: repeat(2000, () => keyword) });
    const long = `http://x/${"a".repeat(98_000)}`;
    const run = async (schema: object, document: unknown, formatAssertion = false) => {
      const compiled = await compileSchema(schema, { formatAssertion });
      try {
        compiled.validate(document, { output: "flag", maxSteps: 400_000 });
        return undefined;
      } catch (error) {
        return (error as ValidationLimitError).kind;
      }
    };
    expect(await run(many({ format: "uri" }), long, true)).toBe("budget");
    expect(await run({ format: "uri" }, long, true)).toBeUndefined();
    const draft07 = (keyword: object) => ({ $schema: "http://json-schema.org/draft-07/schema#", ...keyword });
    expect(
      await run(draft07(many({ contentMediaType: "application/json" })), `[${"0,".repeat(40_000)}0]`),
    ).toBe("budget");
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
