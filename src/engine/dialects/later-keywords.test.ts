import { describe, expect, it } from "vitest";
import { compileSchema } from "../compile-schema";
import type { Draft } from "../registry";
import { DIALECT_KEYWORDS } from "./index";
import { LATER_KEYWORDS } from "./later-keywords";

const DRAFT_04 = "http://json-schema.org/draft-04/schema#";
const DRAFT_06 = "http://json-schema.org/draft-06/schema#";
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

async function verdict(schema: unknown, data: unknown, strictDialect = false): Promise<boolean> {
  return (await compileSchema(schema, { strictDialect })).validate(data, { output: "flag" }).valid;
}

// `then` as a property makes an object literal look like a promise to the linter: parsed instead.
const json = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

describe("later-draft keywords in earlier drafts", () => {
  const has = (draft: Draft, keyword: string): boolean =>
    Object.values(DIALECT_KEYWORDS[draft].vocabularies).some((list) =>
      list.some((d) => d.keyword === keyword),
    );

  it("the table adds only keywords the draft lacks and a later draft defines", () => {
    for (const [draft, later] of Object.entries(LATER_KEYWORDS)) {
      for (const { definition } of later) {
        expect(has(Number(draft) as Draft, definition.keyword), definition.keyword).toBe(false);
        expect(definition.drafts.some((d) => d > Number(draft))).toBe(true);
      }
    }
  });

  it("draft-04: const tells oneOf branches apart by default; strict ignores it, as draft-04 says", async () => {
    const schema = {
      $schema: DRAFT_04,
      oneOf: [
        { properties: { kind: { const: "file" } }, required: ["kind", "path"] },
        { properties: { kind: { const: "url" } }, required: ["kind", "href"] },
      ],
    };
    expect(await verdict(schema, { kind: "file", path: "/x", href: "y" })).toBe(true);
    expect(await verdict(schema, { kind: "file", href: "y" })).toBe(false);
    expect(await verdict(schema, { kind: "file", path: "/x", href: "y" }, true)).toBe(false);
  });

  it("draft-04: contains, propertyNames and if/then/else apply by default, not when strict", async () => {
    const contains = { $schema: DRAFT_04, contains: { type: "integer" } };
    expect(await verdict(contains, ["a"])).toBe(false);
    expect(await verdict(contains, ["a", 1])).toBe(true);
    expect(await verdict(contains, ["a"], true)).toBe(true);
    const names = { $schema: DRAFT_04, propertyNames: { pattern: "^[A-Z_]+$" } };
    expect(await verdict(names, { lower: 1 })).toBe(false);
    expect(await verdict(names, { UPPER: 1 })).toBe(true);
    expect(await verdict(names, { lower: 1 }, true)).toBe(true);
    const conditional = { $schema: DRAFT_04, ...json('{"if": {"minimum": 10}, "then": {"multipleOf": 5}}') };
    expect(await verdict(conditional, 12)).toBe(false);
    expect(await verdict(conditional, 15)).toBe(true);
    expect(await verdict(conditional, 12, true)).toBe(true);
  });

  it("draft-06: if/then/else apply by default; const and contains are its own", async () => {
    const schema = { $schema: DRAFT_06, ...json('{"if": {"const": 443}, "then": false, "else": true}') };
    expect(await verdict(schema, 443)).toBe(false);
    expect(await verdict(schema, 80)).toBe(true);
    expect(await verdict(schema, 443, true)).toBe(true);
  });

  it("keywords whose job the draft already does are not taken: dependentRequired in draft-07, prefixItems", async () => {
    // The official suite's cross-draft test expects exactly this for draft-07's dependentRequired.
    expect(await verdict({ $schema: DRAFT_07, dependentRequired: { a: ["b"] } }, { a: 1 })).toBe(true);
    expect(await verdict({ $schema: DRAFT_04, dependentSchemas: { a: false } }, { a: 1 })).toBe(true);
    expect(await verdict({ $schema: DRAFT_07, prefixItems: [{ type: "string" }] }, [1])).toBe(true);
    expect(await verdict({ $schema: DRAFT_07, contains: true, minContains: 2 }, [1])).toBe(true);
  });

  it("a later keyword of another shape is ignored as unknown, not an error", async () => {
    expect(await verdict({ $schema: DRAFT_04, contains: 5, propertyNames: "x" }, [1])).toBe(true);
    expect(await verdict({ $schema: DRAFT_04, ...json('{"if": {"type": "string"}, "then": 3}') }, "a")).toBe(
      true,
    );
  });

  it("beside $ref in drafts 4-7 they are ignored like every sibling", async () => {
    const schema = { $schema: DRAFT_04, definitions: { any: {} }, $ref: "#/definitions/any", const: 1 };
    expect(await verdict(schema, 2)).toBe(true);
  });
});
