import { describe, expect, it } from "vitest";
import { compileSchema } from "./compile-schema";
import { SchemaError } from "./errors";

const DRAFT_04 = "http://json-schema.org/draft-04/schema#";
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";
const THING = { type: "object", required: ["name"] };

/** A resolveRemote serving THING at exactly `url`, recording what was asked for. */
function serving(url: string) {
  const asked: string[] = [];
  return {
    asked,
    resolveRemote: async (uri: string) => {
      asked.push(uri);
      if (uri === url) return THING;
      throw new Error(`${uri} is not served`);
    },
  };
}

describe("the base URI of a schema", () => {
  it("an inline root $id beside $ref (draft-07) is the retrieval URI the relative $ref resolves against", async () => {
    const remote = serving("https://example.org/thing.json");
    const compiled = await compileSchema(
      { $schema: DRAFT_07, $id: "https://example.org/place.json", $ref: "thing.json" },
      { resolveRemote: remote.resolveRemote },
    );
    expect(remote.asked).toEqual(["https://example.org/thing.json"]);
    expect(compiled.validate({ name: "x" }, { output: "flag" }).valid).toBe(true);
    expect(compiled.validate({}, { output: "flag" }).valid).toBe(false);
  });

  it("draft-04's root id does the same", async () => {
    const remote = serving("https://example.org/schemas/thing.json");
    const compiled = await compileSchema(
      { $schema: DRAFT_04, id: "https://example.org/schemas/place.json", $ref: "thing.json" },
      { resolveRemote: remote.resolveRemote },
    );
    expect(compiled.validate({}, { output: "flag" }).valid).toBe(false);
  });

  it("a given retrieval URI (a schema_url's URL) wins over the root $id beside $ref", async () => {
    const remote = serving("https://schemas.example.com/v1/thing.json");
    await compileSchema(
      { $schema: DRAFT_07, $id: "https://example.org/place.json", $ref: "thing.json" },
      { resolveRemote: remote.resolveRemote, baseUri: "https://schemas.example.com/v1/place.json" },
    );
    expect(remote.asked).toEqual(["https://schemas.example.com/v1/thing.json"]);
  });

  it("a nested $id still rebases its own subschemas", async () => {
    const remote = serving("https://example.org/nested/thing.json");
    const compiled = await compileSchema(
      {
        $id: "https://example.org/root.json",
        properties: { a: { $id: "nested/a.json", $ref: "thing.json" } },
      },
      { resolveRemote: remote.resolveRemote },
    );
    expect(compiled.validate({ a: {} }, { output: "flag" }).valid).toBe(false);
  });

  it("an unresolvable reference names the absolute URI tried and the base used", async () => {
    const error = await compileSchema(
      {
        $schema: DRAFT_07,
        $id: "https://example.org/place.json",
        properties: { a: { $ref: "#/definitions/x" } },
      },
      {},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    const schemaError = error as SchemaError;
    expect(schemaError.ref).toBe("https://example.org/place.json#/definitions/x");
    expect(schemaError.base).toBe("https://example.org/place.json");
    expect(schemaError.message).toContain("tried https://example.org/place.json#/definitions/x");
    expect(schemaError.message).toContain("against the base https://example.org/place.json");
  });
});
