import { describe, expect, it } from "vitest";
import { compileSchema } from "./index";

describe("enrichment output", () => {
  it("adds at most maxEnrichmentBytes of annotations and says it truncated them", async () => {
    const compiled = await compileSchema({
      items: { title: "t".repeat(10_000), description: "d".repeat(8000) },
    });
    const document = Array.from({ length: 5000 }, () => 0);
    const result = compiled.validate(document, { enrich: true, maxEnrichmentBytes: 100_000 });
    expect(result.valid).toBe(true);
    expect(JSON.stringify(result.annotations).length).toBeLessThan(100_000 + 1000);
    expect(result.enrichmentTruncated).toBe(true);
    expect(result.data).toEqual(document);
  });

  it("counts filled defaults against the same cap", async () => {
    const compiled = await compileSchema({ items: { properties: { a: { default: "x".repeat(1000) } } } });
    const result = compiled.validate(
      Array.from({ length: 1000 }, () => ({})),
      { enrich: { annotations: false }, maxEnrichmentBytes: 50_000 },
    );
    expect(JSON.stringify(result.data).length).toBeLessThan(50_000 + 10_000);
    expect(result.enrichmentTruncated).toBe(true);
  });

  it("leaves small enrichments whole", async () => {
    const compiled = await compileSchema({ title: "T", properties: { a: { default: 1 } } });
    const result = compiled.validate({}, { enrich: true });
    expect(result).toMatchObject({ data: { a: 1 }, annotations: { "": { title: "T" } } });
    expect(result.enrichmentTruncated).toBeUndefined();
  });

  it("keeps __proto__ keys of the document as own data properties", async () => {
    const document = JSON.parse('{"__proto__":{"x":1},"a":1}');
    const compiled = await compileSchema(
      JSON.parse('{"type":"object","properties":{"__proto__":{"default":2}}}'),
    );
    const result = compiled.validate(document, { enrich: true });
    expect(JSON.stringify(result.data)).toBe('{"__proto__":{"x":1},"a":1}');
    expect(Object.getPrototypeOf(result.data)).toBe(Object.prototype);
    const filled = compiled.validate({ a: 1 }, { enrich: true });
    expect(JSON.stringify(filled.data)).toBe('{"a":1,"__proto__":2}');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
