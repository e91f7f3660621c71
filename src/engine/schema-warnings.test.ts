import { describe, expect, it } from "vitest";
import { compileSchema, MAX_WARNINGS } from "./index";

const warningsOf = async (schema: unknown) => (await compileSchema(schema)).warnings;
const codes = async (schema: unknown) => (await warningsOf(schema)).map((w) => [w.code, w.schemaLocation]);

describe("schema warnings", () => {
  it("a misspelt keyword, with the keyword it probably is, wherever it stands", async () => {
    const warnings = await warningsOf({
      properties: { a: { type: "object", properites: {} } },
      $defs: { b: { items: { minimun: 1 } } },
    });
    expect(warnings.map((w) => [w.schemaLocation, w.suggestion])).toEqual([
      ["/$defs/b/items/minimun", "minimum"],
      ["/properties/a/properites", "properties"],
    ]);
  });

  it("vendor keywords, namespaced names and editor annotations are not warned about", async () => {
    expect(
      await warningsOf({
        "x-order": 1,
        "meta:enum": {},
        markdownDescription: "m",
        errorMessage: "e",
        defaultSnippets: [],
        properties: { a: { "x-internal": true, deprecationMessage: "old" } },
      }),
    ).toEqual([]);
  });

  it("a container that a local $ref points into is not an unknown keyword", async () => {
    expect(
      await codes({
        $ref: "#/components/schemas/order",
        components: { schemas: { order: { type: "object" } } },
        other: {},
      }),
    ).toEqual([["unknown_keyword", "/other"]]);
  });

  it("draft-specific: later keywords in draft-07, $ref siblings; not 2020-12's own", async () => {
    const draft07 = "http://json-schema.org/draft-07/schema#";
    expect(
      await codes({ $schema: draft07, dependentRequired: {}, properties: { r: { $ref: "#", minimum: 1 } } }),
    ).toEqual([
      ["keyword_not_in_draft", "/dependentRequired"],
      ["ref_sibling_ignored", "/properties/r/minimum"],
    ]);
    // 2020-12 applies $ref siblings; draft-07's readOnly is an annotation under draft-06 (harmless).
    expect(await codes({ properties: { r: { $ref: "#", minimum: 1 } } })).toEqual([]);
    expect(await codes({ $schema: "http://json-schema.org/draft-06/schema#", readOnly: true })).toEqual([]);
  });

  it("later-draft keywords the compatible dialect applies are not warned about; under a strict dialect they are", async () => {
    const schema = { $schema: "http://json-schema.org/draft-04/schema#", const: 1, prefixItems: [] };
    expect(await codes(schema)).toEqual([["keyword_not_in_draft", "/prefixItems"]]);
    const strict = await compileSchema(schema, { strictDialect: true });
    expect(strict.warnings.map((w) => w.schemaLocation)).toEqual(["/const", "/prefixItems"]);
  });

  it("unknown formats (OpenAPI's are known) and keywords for another type", async () => {
    expect(
      await codes({
        properties: {
          a: { type: "string", format: "datetime" },
          b: { type: "integer", format: "int64", maxLength: 3 },
          c: { type: ["string", "null"], minLength: 1 },
          d: { type: "object", items: {} },
        },
      }),
    ).toEqual([
      ["unknown_format", "/properties/a/format"],
      ["keyword_without_effect", "/properties/b/maxLength"],
      ["keyword_without_effect", "/properties/d/items"],
    ]);
    expect((await warningsOf({ format: "datetime" }))[0]?.suggestion).toBe("date-time");
  });

  it("stay bounded: at most MAX_WARNINGS, 32 KiB of text, names cut in messages", async () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`unknown${i}`, 1]));
    const compiled = await compileSchema(many);
    expect(compiled.warnings).toHaveLength(MAX_WARNINGS);
    expect(compiled.warningsTruncated).toBe(true);
    const long = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${"k".repeat(2000)}${i}`, 1]));
    const bounded = await compileSchema(long);
    expect(JSON.stringify(bounded.warnings).length).toBeLessThan(200 * 1024);
    expect(bounded.warningsTruncated).toBe(true);
    expect(bounded.warnings[0]?.message.length).toBeLessThan(200);
  });

  it("an unknown type name under a custom metaschema that allows it", async () => {
    const meta = { $id: "https://example.com/meta", $schema: "https://json-schema.org/draft/2020-12/schema" };
    const compiled = await compileSchema(
      { $schema: "https://example.com/meta", type: "strng" },
      { resolveRemote: async () => meta },
    );
    expect(compiled.warnings).toEqual([
      expect.objectContaining({ code: "unknown_type", schemaLocation: "/type", suggestion: "string" }),
    ]);
  });

  it("a clean schema has none", async () => {
    const compiled = await compileSchema({ type: "object", properties: { a: { type: "string" } } });
    expect(compiled.warnings).toEqual([]);
    expect(compiled.warningsTruncated).toBe(false);
  });
});
