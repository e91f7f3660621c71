import { describe, expect, it } from "vitest";
import type { Draft } from "../registry";
import { DIALECT_KEYWORDS } from "./index";
import { RESOURCE_KEYWORDS } from "./resource-keywords";

// The tables are the one place that says which keyword a draft has; each keyword also declares its
// drafts, and the two must agree.

describe("dialect keyword tables", () => {
  for (const [draft, table] of Object.entries(DIALECT_KEYWORDS)) {
    const definitions = Object.values(table.vocabularies).flat();

    it(`draft ${draft}: every keyword listed declares the draft`, () => {
      for (const definition of definitions) {
        expect(definition.drafts, definition.keyword).toContain(Number(draft) as Draft);
      }
    });

    it(`draft ${draft}: one implementation per keyword (dependencies has two halves)`, () => {
      const names = definitions.map((d) => d.keyword).filter((k) => k !== "dependencies");
      expect(new Set(names).size).toBe(names.length);
    });

    it(`draft ${draft}: the table names its own draft`, () => {
      expect(table.draft).toBe(Number(draft));
    });
  }

  it("keeps draft-specific forms where they belong", () => {
    const has = (draft: Draft, keyword: string): boolean =>
      Object.values(DIALECT_KEYWORDS[draft].vocabularies).some((list) =>
        list.some((d) => d.keyword === keyword),
      );
    expect(has(4, "const")).toBe(false);
    expect(has(6, "const")).toBe(true);
    expect(has(6, "if")).toBe(false);
    expect(has(7, "if")).toBe(true);
    expect(has(2019, "$recursiveRef")).toBe(true);
    expect(has(2020, "$recursiveRef")).toBe(false);
    expect(has(2020, "$dynamicRef")).toBe(true);
    expect(has(7, "contentEncoding")).toBe(true);
    expect(has(2019, "contentEncoding")).toBe(false);
    expect(RESOURCE_KEYWORDS[7].refOverridesSiblings).toBe(true);
    expect(RESOURCE_KEYWORDS[2019].refOverridesSiblings).toBe(false);
    expect(RESOURCE_KEYWORDS[4].id).toBe("id");
    expect(RESOURCE_KEYWORDS[6].id).toBe("$id");
  });
});
