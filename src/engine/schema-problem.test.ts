import { describe, expect, it } from "vitest";
import { compileSchema, SchemaError } from "./index";

const refusal = async (schema: unknown): Promise<SchemaError> => {
  try {
    await compileSchema(schema);
  } catch (e) {
    if (e instanceof SchemaError) return e;
    throw e;
  }
  throw new Error("compiled");
};

describe("an invalid schema explained like a compiler error", () => {
  it('names the location in the schema, the bad value, the allowed ones and "string" for "strng"', async () => {
    const e = await refusal({ properties: { name: { type: "strng" } } });
    expect(e.problem).toMatchObject({
      schemaLocation: "/properties/name/type",
      keyword: "enum",
      value: "strng",
      allowedValues: ["array", "boolean", "integer", "null", "number", "object", "string"],
      suggestion: 'Did you mean "string"?',
    });
    expect(e.message).toBe(
      'The schema is invalid at /properties/name/type: "strng" must be one of "array", "boolean", "integer", "null", "number", "object", "string". Did you mean "string"?',
    );
    // the metaschema's own output is still there
    expect(e.errors.length).toBeGreaterThan(1);
  });

  it("works alike in older drafts and for a wrong member type", async () => {
    const draft04 = await refusal({
      $schema: "http://json-schema.org/draft-04/schema#",
      properties: { n: { type: "strng" } },
    });
    expect(draft04.problem?.schemaLocation).toBe("/properties/n/type");
    const required = await refusal({ required: "id" });
    expect(required.problem).toMatchObject({ schemaLocation: "/required", keyword: "type", value: "id" });
    expect(required.message).toBe('The schema is invalid at /required: "id" must be array (got string).');
  });
});
