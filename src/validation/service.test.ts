import { describe, expect, it } from "vitest";
import { type FetchedSchema, SchemaFetchError } from "./schema-fetcher";
import {
  createValidationService,
  DEFAULT_VALIDATION_LIMITS,
  ValidationRefusal,
  type ValidationRequest,
} from "./service";

const REMOTE = "https://schemas.example/id.json";

/**
 * A service whose only remote schema counts its fetches: a schema that `$ref`s it is fetched once
 * per compilation, so the count says how many times the service compiled.
 */
function countingService(limits = DEFAULT_VALIDATION_LIMITS) {
  const fetched: string[] = [];
  const service = createValidationService({
    fetchSchema: async (url: string): Promise<FetchedSchema> => {
      fetched.push(url);
      return { url, version: "v1", body: { type: "string", minLength: 2 }, bytes: 32 };
    },
    limits,
    cache: { maxEntries: 10, maxBytes: 10_000_000 },
  });
  return { service, compilations: () => fetched.length };
}

const request = (schema: unknown, data: unknown, formatAssertion = false): ValidationRequest => ({
  schema: { schema },
  documents: [{ data }],
  output: "flag",
  formatAssertion,
  enrich: false,
});

async function refusal(promise: Promise<unknown>): Promise<ValidationRefusal> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ValidationRefusal);
  return error as ValidationRefusal;
}

describe("the compiled-schema cache", () => {
  it("compiles an inline schema once, whatever the order of its keys", async () => {
    const { service, compilations } = countingService();
    const schema = { type: "object", properties: { id: { $ref: REMOTE } }, required: ["id"] };
    const reordered = { required: ["id"], properties: { id: { $ref: REMOTE } }, type: "object" };

    expect((await service.validate(request(schema, { id: "ab" })))[0]?.valid).toBe(true);
    expect((await service.validate(request(schema, { id: "a" })))[0]?.valid).toBe(false);
    expect((await service.validate(request(reordered, { id: "ab" })))[0]?.valid).toBe(true);
    expect(compilations()).toBe(1);
  });

  it("keeps format assertion apart: the same schema asserting formats is another validator", async () => {
    const { service, compilations } = countingService();
    const schema = { properties: { id: { $ref: REMOTE } }, format: "email" };

    expect((await service.validate(request(schema, "not-an-email")))[0]?.valid).toBe(true);
    expect((await service.validate(request(schema, "not-an-email", true)))[0]?.valid).toBe(false);
    expect((await service.validate(request(schema, "not-an-email")))[0]?.valid).toBe(true);
    expect(compilations()).toBe(2);
  });

  it("does not confuse schemas that differ only in a value", async () => {
    const { service } = countingService();
    expect((await service.validate(request({ maxLength: 3 }, "abcd")))[0]?.valid).toBe(false);
    expect((await service.validate(request({ maxLength: 4 }, "abcd")))[0]?.valid).toBe(true);
  });
});

describe("the compiled-schema cache for schema_url", () => {
  it("compiles once per URL and version (ETag), and again when the version changes", async () => {
    const SCHEMA_URL = "https://schemas.example/order.json";
    let version = "etag-1";
    const fetched: string[] = [];
    const service = createValidationService({
      fetchSchema: async (url: string): Promise<FetchedSchema> => {
        fetched.push(url);
        return url === SCHEMA_URL
          ? { url, version, body: { properties: { id: { $ref: REMOTE } } }, bytes: 40 }
          : { url, version: "v1", body: { type: "string", minLength: 2 }, bytes: 32 };
      },
      limits: DEFAULT_VALIDATION_LIMITS,
      cache: { maxEntries: 10, maxBytes: 10_000_000 },
    });
    const byUrl = (data: unknown): ValidationRequest => ({
      ...request(true, data),
      schema: { schemaUrl: SCHEMA_URL },
    });
    // The remote $ref is fetched once per compilation.
    const compilations = () => fetched.filter((url) => url === REMOTE).length;

    expect((await service.validate(byUrl({ id: "ab" })))[0]?.valid).toBe(true);
    expect((await service.validate(byUrl({ id: "a" })))[0]?.valid).toBe(false);
    expect(compilations()).toBe(1);
    version = "etag-2";
    expect((await service.validate(byUrl({ id: "ab" })))[0]?.valid).toBe(true);
    expect(compilations()).toBe(2);
  });
});

describe("remote $refs that cannot be loaded", () => {
  it("a refused fetch is SCHEMA_UNAVAILABLE with the fetcher's reason, as for schema_url", async () => {
    const service = createValidationService({
      fetchSchema: async (url: string): Promise<FetchedSchema> => {
        throw new SchemaFetchError("private_address", url, `${url} resolves to a private address`);
      },
      limits: DEFAULT_VALIDATION_LIMITS,
      cache: { maxEntries: 10, maxBytes: 10_000_000 },
    });
    const refused = await refusal(service.validate(request({ $ref: `${REMOTE}#/$defs/x` }, 1)));
    expect(refused).toMatchObject({
      code: "SCHEMA_UNAVAILABLE",
      extensions: { reason: "private_address", url: REMOTE },
    });
  });

  it("more remote documents than the limit is LIMIT_EXCEEDED (max_remote_documents)", async () => {
    const { service } = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxRemoteDocuments: 1 });
    const schema = { properties: { a: { $ref: REMOTE }, b: { $ref: "https://schemas.example/other.json" } } };
    const refused = await refusal(service.validate(request(schema, {})));
    expect(refused).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_remote_documents" } });
  });

  it("remote documents larger than the limit together are LIMIT_EXCEEDED (max_remote_schema_bytes)", async () => {
    const { service } = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxRemoteSchemaBytes: 50 });
    const schema = { properties: { a: { $ref: REMOTE }, b: { $ref: "https://schemas.example/other.json" } } };
    const refused = await refusal(service.validate(request(schema, {})));
    expect(refused).toMatchObject({
      code: "LIMIT_EXCEEDED",
      extensions: { limit: "max_remote_schema_bytes" },
    });
    // One of them (32 bytes) fits.
    const one = await service.validate(request({ properties: { a: { $ref: REMOTE } } }, { a: "ab" }));
    expect(one[0]?.valid).toBe(true);
  });

  it("compiling spends from its own budget (MAX_COMPILE_STEPS) and is bounded by the compiled weight, refused as limits", async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) properties[`p${i}`] = { type: "string" };
    const schema = { properties };
    const cpu = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxCompileSteps: 10_000 });
    expect(await refusal(cpu.service.validate(request(schema, {})))).toMatchObject({
      code: "LIMIT_EXCEEDED",
      extensions: { limit: "cpu_budget" },
    });
    const memory = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxCompiledSchemaBytes: 1_000_000 });
    expect(await refusal(memory.service.validate(request(schema, {})))).toMatchObject({
      code: "LIMIT_EXCEEDED",
      extensions: { limit: "max_compiled_schema_bytes" },
    });
    expect((await countingService().service.validate(request(schema, {})))[0]?.valid).toBe(true);
  });

  it("an unresolvable $ref names the absolute URI tried and the base, in the message and extensions", async () => {
    const { service } = countingService();
    const refused = await refusal(
      service.validate(request({ $id: "https://example.org/a/place.json", $ref: "#/definitions/nope" }, 1)),
    );
    expect(refused).toMatchObject({
      code: "SCHEMA_UNRESOLVABLE",
      extensions: {
        ref: "https://example.org/a/place.json#/definitions/nope",
        base: "https://example.org/a/place.json",
      },
    });
    expect(refused.detail).toContain("against the base https://example.org/a/place.json");
  });

  it("a $ref to a document that loaded but lacks the target stays SCHEMA_UNRESOLVABLE", async () => {
    const { service } = countingService();
    const refused = await refusal(service.validate(request({ $ref: `${REMOTE}#/$defs/missing` }, 1)));
    expect(refused).toMatchObject({ code: "SCHEMA_UNRESOLVABLE" });
  });
});

describe("inline schema limits", () => {
  it("refuses a schema deeper than the limit, every time it is sent", async () => {
    const { service } = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxDepth: 5 });
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 6; i++) schema = { items: schema };
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await refusal(service.validate(request(schema, [])));
      expect(refused).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_depth" } });
    }
  });

  it("refuses, rather than failing, a schema too deep for JSON.stringify", async () => {
    const { service } = countingService();
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 200_000; i++) schema = { items: schema };
    expect(() => JSON.stringify(schema)).toThrow(RangeError);
    const refused = await refusal(service.validate(request(schema, [])));
    expect(refused).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_depth" } });
  });

  it("refuses a schema larger than the limit, every time it is sent", async () => {
    const { service } = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxSchemaBytes: 100 });
    const schema = { description: "x".repeat(200) };
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await refusal(service.validate(request(schema, 1)));
      expect(refused).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_schema_bytes" } });
    }
  });
});

describe("remote schemas and document limits", () => {
  function deepService(depth: number) {
    let body: unknown = { type: "string" };
    for (let i = 0; i < depth; i++) body = { items: body };
    return createValidationService({
      fetchSchema: async (url: string): Promise<FetchedSchema> => ({ url, version: "v1", body, bytes: 100 }),
      limits: DEFAULT_VALIDATION_LIMITS,
      cache: { maxEntries: 10, maxBytes: 10_000_000 },
    });
  }

  it("depth-checks a remote $ref document and a schema_url like an inline schema", async () => {
    const service = deepService(50_000);
    const viaRef = await refusal(service.validate(request({ $ref: REMOTE }, [])));
    expect(viaRef).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_depth" } });
    const viaUrl = await refusal(service.validate({ ...request(null, []), schema: { schemaUrl: REMOTE } }));
    expect(viaUrl).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_depth" } });
  });

  it("holds `data` to MAX_DOCUMENT_BYTES by its JSON text, like `json`", async () => {
    const { service } = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxDocumentBytes: 1000 });
    const refused = await refusal(service.validate(request({}, "x".repeat(1000))));
    expect(refused).toMatchObject({ code: "LIMIT_EXCEEDED", extensions: { limit: "max_document_bytes" } });
    expect((await service.validate(request({}, "x".repeat(900))))[0]?.valid).toBe(true);
  });

  it("shares the enrichment byte cap between the documents of a request", async () => {
    const { service } = countingService({ ...DEFAULT_VALIDATION_LIMITS, maxEnrichmentBytes: 20_000 });
    const schema = { title: "t".repeat(5000) };
    const one = await service.validate({ ...request(schema, 1), enrich: true });
    expect(one[0]?.enrichmentTruncated).toBeUndefined();
    const many = await service.validate({
      ...request(schema, 1),
      documents: Array.from({ length: 10 }, () => ({ data: 1 })),
      enrich: true,
    });
    expect(many.every((result) => result.enrichmentTruncated === true)).toBe(true);
  });
});
