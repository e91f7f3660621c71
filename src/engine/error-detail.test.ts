import { describe, expect, it } from "vitest";
import { compileSchema } from "./index";

// Verdict errors carry machine-readable detail (keyword, params named as ajv does), the offending
// value and near-miss suggestions, and inline schemas show no placeholder URI.

const errorsOf = async (schema: unknown, document: unknown, output: "basic" | "detailed" = "basic") =>
  (await compileSchema(schema)).validate(document, { output }).errors ?? [];

describe("verdict error detail", () => {
  it("required points at the missing property, with params.missingProperty", async () => {
    const [e] = await errorsOf({ properties: { a: { required: ["email"] } } }, { a: { name: "x" } });
    expect(e).toMatchObject({
      keyword: "required",
      instanceLocation: "/a/email",
      keywordLocation: "/properties/a/required",
      absoluteKeywordLocation: "#/properties/a/required",
      params: { missingProperty: "email" },
    });
    expect(e).not.toHaveProperty("value");
  });

  it("a missing property with a near-miss key in the document gets a suggestion", async () => {
    const [e] = await errorsOf({ required: ["email"] }, { emial: "a@b.c" });
    expect(e?.suggestion).toBe('The document has "emial": did you mean "email"?');
  });

  it("dependentRequired names the property that requires and the one missing", async () => {
    const [e] = await errorsOf({ dependentRequired: { card: ["billing"] } }, { card: 1 });
    expect(e).toMatchObject({
      keyword: "dependentRequired",
      instanceLocation: "/billing",
      params: { property: "card", missingProperty: "billing" },
    });
  });

  it("enum gives allowedValues, the value and a suggestion for a near miss", async () => {
    const [e] = await errorsOf({ properties: { s: { enum: ["active", "inactive"] } } }, { s: "actve" });
    expect(e).toMatchObject({
      keyword: "enum",
      instanceLocation: "/s",
      value: "actve",
      params: { allowedValues: ["active", "inactive"] },
      suggestion: 'Did you mean "active"?',
    });
    const [far] = await errorsOf({ enum: ["active", "inactive"] }, "something else");
    expect(far).not.toHaveProperty("suggestion");
  });

  it("additionalProperties names the property and suggests a declared one", async () => {
    const schema = { properties: { email: { type: "string" } }, additionalProperties: false };
    const [e] = await errorsOf(schema, { emial: "a@b.c" });
    expect(e).toMatchObject({
      keyword: "additionalProperties",
      instanceLocation: "/emial",
      value: "a@b.c",
      params: { additionalProperty: "emial" },
      suggestion: 'Did you mean "email"? The schema declares it.',
    });
  });

  it("limits, types, patterns and formats carry their params", async () => {
    const schema = {
      properties: {
        n: { minimum: 5 },
        s: { maxLength: 2 },
        t: { type: "integer" },
        p: { pattern: "^a" },
        m: { multipleOf: 3 },
      },
    };
    const errors = await errorsOf(schema, { n: 1, s: "abc", t: "x", p: "b", m: 4 });
    expect(errors.map((e) => [e.keyword, e.params, e.value])).toEqual([
      ["minimum", { comparison: ">=", limit: 5 }, 1],
      ["maxLength", { limit: 2 }, "abc"],
      ["type", { type: "integer" }, "x"],
      ["pattern", { pattern: "^a" }, "b"],
      ["multipleOf", { multipleOf: 3 }, 4],
    ]);
  });

  it("cuts a long offending value to its first 200 characters", async () => {
    const [e] = await errorsOf({ type: "integer" }, { big: "x".repeat(10_000) });
    expect(e?.valueTruncated).toBe(true);
    expect(typeof e?.value).toBe("string");
    const shown = String(e?.value);
    expect(shown.length).toBe(200);
    expect(shown.startsWith('{"big":"xxx')).toBe(true);
  });

  it("a failing oneOf lists its closest branch first and names it", async () => {
    const schema = {
      oneOf: [
        { properties: { kind: { const: "card" }, number: { type: "string" } }, required: ["kind", "number"] },
        { properties: { kind: { const: "bank" }, iban: { type: "string" } }, required: ["kind", "iban"] },
      ],
    };
    const errors = await errorsOf(schema, { kind: "bank" }, "detailed");
    expect(errors[0]).toMatchObject({
      keyword: "oneOf",
      params: { closestBranch: 1 },
      error: "must match exactly one of the subschemas (closest: branch 1)",
    });
    expect(errors[0]?.errors?.[0]).toMatchObject({
      keywordLocation: "/oneOf/1/required",
      params: { missingProperty: "iban" },
    });
  });

  it("a oneOf matching twice names the passing schemas", async () => {
    const [e] = await errorsOf({ oneOf: [{ type: "number" }, { minimum: 0 }] }, 3);
    expect(e).toMatchObject({ keyword: "oneOf", params: { passingSchemas: [0, 1] } });
  });

  it("absoluteKeywordLocation is the schema's URI when it has an $id, relative to it when not", async () => {
    const [withId] = await errorsOf({ $id: "https://example.com/s.json", type: "string" }, 1);
    expect(withId?.absoluteKeywordLocation).toBe("https://example.com/s.json#/type");
    const [embedded] = await errorsOf(
      { $ref: "item.json", $defs: { i: { $id: "item.json", type: "string" } } },
      1,
    );
    expect(embedded?.absoluteKeywordLocation).toBe("item.json#/type");
    const [falseSchema] = await errorsOf({ properties: { x: false } }, { x: 1 });
    expect(falseSchema).toMatchObject({ keyword: "false", absoluteKeywordLocation: "#/properties/x" });
  });

  it("flag mode and valid documents carry none of it", async () => {
    const c = await compileSchema({ enum: ["a"] });
    expect(c.validate("b", { output: "flag" })).toEqual({ valid: false });
    expect(c.validate("a")).toEqual({ valid: true });
  });
});

describe("error detail stays bounded", () => {
  it("a large enum lists its first values up to 1,000 characters; a large const none", async () => {
    const values = Array.from({ length: 300 }, (_, i) => `value-number-${i}`);
    const [e] = await errorsOf({ enum: values }, "value-number-x");
    expect(e?.params?.allowedValuesTruncated).toBe(true);
    expect(JSON.stringify(e?.params?.allowedValues).length).toBeLessThanOrEqual(1000);
    const [c] = await errorsOf({ const: { big: "x".repeat(5000) } }, 1);
    expect(c?.params).toEqual({ allowedValueTruncated: true });
  });
});
