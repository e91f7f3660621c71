import { describe, expect, it } from "vitest";
import { compileSchema } from "./index";

describe("$schema spellings of the standard drafts", () => {
  it.each([
    ["http://json-schema.org/schema", 7],
    ["http://json-schema.org/schema#", 7],
    ["https://json-schema.org/schema", 7],
    ["https://json-schema.org/draft-07/schema#", 7],
    ["https://json-schema.org/draft-04/schema#", 4],
    ["http://json-schema.org/draft/2020-12/schema", 2020],
  ])("%s is read as its draft (%s), with no fetch", async (uri, draft) => {
    const compiled = await compileSchema(
      { $schema: uri, type: "object", properties: { port: { type: "integer" } } },
      {
        resolveRemote: () => {
          throw new Error("must not fetch a standard metaschema");
        },
      },
    );
    expect(compiled.draft).toBe(draft);
    expect(compiled.validate({ port: 1 }).valid).toBe(true);
    expect(compiled.validate({ port: "1" }).valid).toBe(false);
  });

  it("the bare schema URI keeps draft-07's reading of $ref siblings (ignored)", async () => {
    const compiled = await compileSchema({
      $schema: "http://json-schema.org/schema",
      definitions: { any: {} },
      $ref: "#/definitions/any",
      type: "string",
    });
    expect(compiled.validate(1).valid).toBe(true);
  });
});
