/**
 * The README's conformance claim, checked on every run: every required test of the official
 * JSON-Schema-Test-Suite passes on all five drafts, and every `optional/format` test with format
 * asserted, through the engine the Worker uses, with and without `"dialect": "strict"`.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_SUITE_DIR, DRAFTS, runJsonSchemaSuite } from "../support/json-schema-suite";

describe("JSON-Schema-Test-Suite", () => {
  it("finds the suite (test/fixtures/json-schema-test-suite or JSON_SCHEMA_TEST_SUITE)", () => {
    expect(existsSync(DEFAULT_SUITE_DIR), DEFAULT_SUITE_DIR).toBe(true);
  });

  it.each(DRAFTS.map(([draft]) => draft))(
    "%s: every required and optional/format test passes",
    async (draft) => {
      const [result] = await runJsonSchemaSuite({ drafts: [draft] });
      expect(result?.req.total).toBeGreaterThan(600);
      expect(result?.fmt.total).toBeGreaterThan(200);
      expect(result?.req.failures).toEqual([]);
      expect(result?.fmt.failures).toEqual([]);
      expect(result?.req.passed).toBe(result?.req.total);
    },
  );

  // The API's default applies later-draft keywords in older drafts (the runs above); "dialect":
  // "strict" must pass the suite as well.
  it.each(DRAFTS.map(([draft]) => draft))(
    "%s with dialect strict: every required test passes",
    async (draft) => {
      const [result] = await runJsonSchemaSuite({ drafts: [draft], strictDialect: true });
      expect(result?.req.total).toBeGreaterThan(600);
      expect(result?.req.failures).toEqual([]);
      expect(result?.fmt.failures).toEqual([]);
    },
  );
});
