/**
 * POST /v1/validate and /v1/validate/batch through the app factory, against the real local stack:
 * tokens, admission (one unit per document, two with enrichment), refusals as 422 and not billed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, problemOf, startAccessHarness, usageStream } from "../harness/access";

let harness: AccessHarness;
let token: string;
let schemaHost: string;
let schemaServer: Server;

const orderSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["id", "items"],
  properties: {
    id: { type: "string", pattern: "^ord_[a-z0-9]+$", title: "Order id" },
    placed_at: { type: "string", format: "date-time" },
    currency: { type: "string", default: "EUR" },
    items: { type: "array", minItems: 1, items: { $ref: "#/$defs/item" } },
  },
  $defs: {
    item: { type: "object", required: ["sku", "qty"], properties: { qty: { type: "integer", minimum: 1 } } },
  },
};

beforeAll(async () => {
  schemaServer = createServer((request, response) => {
    if (request.url === "/to-metadata") {
      response.writeHead(302, { Location: "http://169.254.169.254/latest/meta-data/" });
      return response.end();
    }
    response.setHeader("Content-Type", "application/schema+json");
    response.end(JSON.stringify(orderSchema));
  });
  await new Promise<void>((listening) => schemaServer.listen(0, "127.0.0.1", listening));
  schemaHost = `127.0.0.1:${(schemaServer.address() as AddressInfo).port}`;
  harness = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
      SCHEMA_FETCH_ALLOWLIST: schemaHost,
      MAX_BATCH_DOCUMENTS: "5",
      MAX_DOCUMENT_BYTES: "2000",
    },
  });
  token = (await harness.account("pro")).token;
});

afterAll(async () => {
  await harness?.stop();
  schemaServer?.closeAllConnections();
  await new Promise((closed) => schemaServer?.close(closed));
});

async function validate(body: unknown, path = "/v1/validate", bearer = token) {
  const response = await harness.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body),
  });
  await harness.settle();
  return response;
}

async function verdict(body: unknown, path?: string) {
  const response = await validate(body, path);
  const json = (await response.json()) as Record<string, any>;
  expect(response.status, JSON.stringify(json)).toBe(200);
  return json;
}

const unitsFor = async (requestId: string) =>
  (await usageStream(harness))
    .filter((record) => record.request_id === requestId)
    .map((record) => Number(record.units));

describe("POST /v1/validate", () => {
  it("a valid document: 200, 1 unit admitted and not compensated", async () => {
    const response = await validate({
      schema: orderSchema,
      data: { id: "ord_1", items: [{ sku: "a", qty: 1 }] },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ valid: true, units: 1 });
    expect(response.headers.get("RateLimit-Policy")).toContain("pro");
    expect(await unitsFor(response.headers.get("X-Request-Id")!)).toEqual([1]);
  });

  it("an invalid document: 200 with located errors in the basic format", async () => {
    const result = await verdict({
      schema: orderSchema,
      data: { id: "nope", items: [{ sku: "a", qty: 0 }] },
    });
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          instanceLocation: "/id",
          keywordLocation: "/properties/id/pattern",
          absoluteKeywordLocation: expect.stringMatching(/#\/properties\/id\/pattern$/),
          error: expect.any(String),
        }),
        expect.objectContaining({
          instanceLocation: "/items/0/qty",
          keywordLocation: "/properties/items/items/$ref/properties/qty/minimum",
          absoluteKeywordLocation: expect.stringMatching(/#\/\$defs\/item\/properties\/qty\/minimum$/),
        }),
      ]),
    );
  });

  it("each output format", async () => {
    const body = { schema: orderSchema, data: { id: 1, items: [] } };
    expect(await verdict({ ...body, output: "flag" })).toEqual({ valid: false, units: 1 });
    const detailed = await verdict({ ...body, output: "detailed" });
    expect(detailed).toMatchObject({ valid: false, keywordLocation: "", instanceLocation: "" });
    expect(JSON.stringify(detailed.errors)).toContain('"errors"'); // nested units
  });

  it("takes the document as JSON text, and the draft from $schema", async () => {
    const result = await verdict({
      schema: {
        $schema: "http://json-schema.org/draft-04/schema#",
        type: "object",
        properties: { n: { type: "integer" } },
      },
      json: '{"n": 1.5}',
    });
    expect(result.valid).toBe(false);
    expect(result.errors[0].instanceLocation).toBe("/n");
  });

  it("asserts formats only when asked", async () => {
    const body = {
      schema: orderSchema,
      data: { id: "ord_1", items: [{ sku: "a", qty: 1 }], placed_at: "yesterday" },
    };
    expect((await verdict(body)).valid).toBe(true);
    const asserted = await verdict({ ...body, format_assertion: true });
    expect(asserted.valid).toBe(false);
    expect(asserted.errors[0].instanceLocation).toBe("/placed_at");
  });

  it("enrichment: 2 units, defaults, normalised formats, annotations; never changes the verdict", async () => {
    const response = await validate({
      schema: orderSchema,
      data: { id: "ord_1", items: [{ sku: "a", qty: 1 }], placed_at: "2026-11-24T10:00:00+02:00" },
      enrich: true,
    });
    const result = (await response.json()) as Record<string, any>;
    expect(result).toMatchObject({ valid: true, units: 2 });
    expect(result.data).toMatchObject({ currency: "EUR", placed_at: "2026-11-24T08:00:00Z" });
    expect(result.annotations["/id"]).toMatchObject({ title: "Order id" });
    expect(await unitsFor(response.headers.get("X-Request-Id")!)).toEqual([2]);

    const invalid = await verdict({ schema: orderSchema, data: { id: "x", items: [] }, enrich: true });
    expect(invalid.valid).toBe(false);
    expect(invalid.data).toBeUndefined();
    expect(invalid.annotations).toBeUndefined();
  });

  it("a catastrophic-backtracking pattern returns promptly", async () => {
    const started = performance.now();
    const result = await verdict({
      schema: { type: "string", pattern: "^(a+)+$" },
      // Under the suite's MAX_DOCUMENT_BYTES (2000), which `data` is held to as well as `json`.
      data: `${"a".repeat(1900)}!`,
    });
    expect(result.valid).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("caps errors with a truncated flag", async () => {
    const result = await verdict({
      schema: { type: "array", items: { type: "string" } },
      data: Array.from({ length: 150 }, (_, i) => i),
    });
    expect(result.errors).toHaveLength(100);
    expect(result.truncated).toBe(true);
  });
});

describe("refusals: 422, not billed", () => {
  async function refusal(body: unknown, code: string) {
    const response = await validate(body);
    const problem = await problemOf(response);
    expect(response.status, JSON.stringify(problem)).toBe(422);
    expect(problem.code).toBe(code);
    // Admitted before compute, then compensated: the caller did not get a 200, so nothing is billed.
    const units = await unitsFor(response.headers.get("X-Request-Id")!);
    expect(units.reduce((sum, unit) => sum + unit, 0)).toBe(0);
    return problem;
  }

  it("a document that is not JSON, with line and column", async () => {
    const problem = await refusal(
      { schema: orderSchema, json: '{\n  "id": "ord_1",\n  "items": [1,]\n}' },
      "DOCUMENT_NOT_JSON",
    );
    expect(problem).toMatchObject({ line: 3, column: 15 });
  });

  it("a schema invalid against its metaschema, with the metaschema's errors", async () => {
    const problem = await refusal({ schema: { type: "strnig" }, data: 1 }, "SCHEMA_INVALID");
    expect(JSON.stringify(problem.errors)).toContain("/type");
  });

  it("patterns with lookaround and backreferences run; one that exceeds its regex budget is refused", async () => {
    const name = { pattern: "^(?!@@)[\\w@]+$" };
    expect((await verdict({ schema: name, data: "user@x" })).valid).toBe(true);
    expect((await verdict({ schema: name, data: "@@x" })).valid).toBe(false);
    expect((await verdict({ schema: { pattern: "^(a)\\1$" }, data: "aa" })).valid).toBe(true);
    expect((await verdict({ schema: { pattern: "(?<=a)b" }, data: "cb" })).valid).toBe(false);
    const catastrophic = { properties: { x: { pattern: "^(?=(a+)+$)" } } };
    const budget = await refusal(
      { schema: catastrophic, data: { x: `${"a".repeat(40)}!` } },
      "LIMIT_EXCEEDED",
    );
    expect(budget.limit).toBe("regex_budget");
    expect(budget.detail).toContain("/properties/x");
    const tooLarge = await refusal({ schema: { pattern: "(?:a{1000}){1000}" }, data: "a" }, "SCHEMA_INVALID");
    expect(tooLarge.detail).toContain("too large");
  });

  it("an unresolvable $ref", async () => {
    await refusal({ schema: { $ref: "#/$defs/missing" }, data: 1 }, "SCHEMA_UNRESOLVABLE");
  });

  it("limits: depth and document size", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(await refusal({ schema: { items: {} }, data: deep }, "LIMIT_EXCEEDED")).toMatchObject({
      limit: "max_depth",
    });
    expect(
      await refusal({ schema: true, json: JSON.stringify("x".repeat(3000)) }, "LIMIT_EXCEEDED"),
    ).toMatchObject({
      limit: "max_document_bytes",
    });
  });

  it("the CPU budget (MAX_VALIDATION_STEPS) stops a request that needs too much work", async () => {
    const tight = { ...harness.env, MAX_VALIDATION_STEPS: "1000" };
    const response = await harness.request(
      "/v1/validate",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({
          // Every anyOf branch tried is a unit of work: 100 branches over 400 items is 40,000.
          schema: { items: { anyOf: Array.from({ length: 100 }, (_, i) => ({ const: i })) } },
          data: Array.from({ length: 400 }, () => 99),
        }),
      },
      tight,
    );
    await harness.settle();
    expect(response.status).toBe(422);
    expect(await problemOf(response)).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "cpu_budget" });
  });

  it("a batch's documents spend one budget in turn: a large one may use what small ones leave", async () => {
    const budget = { ...harness.env, MAX_VALIDATION_STEPS: "15000" };
    // 50 branches (two units each: the branch and its const) over 100 items is about 10,000 units:
    // more than a fifth of 15,000, within all of it.
    const schema = { items: { anyOf: Array.from({ length: 50 }, (_, i) => ({ const: i })) } };
    const batch = (documents: unknown[]) =>
      harness.request(
        "/v1/validate/batch",
        {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: JSON.stringify({ schema, documents }),
        },
        budget,
      );
    const heavy = Array.from({ length: 100 }, () => 49);
    const mixed = await batch([heavy, [1], [2], [3], [4]]);
    expect(mixed.status).toBe(200);
    expect(((await mixed.json()) as { valid: boolean }).valid).toBe(true);
    // Two heavy documents need more than the request's whole budget.
    const twoHeavy = await batch([heavy, heavy, [1]]);
    await harness.settle();
    expect(twoHeavy.status).toBe(422);
    expect(await problemOf(twoHeavy)).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "cpu_budget" });
  });

  it("one document spends at most MAX_DOCUMENT_STEPS of the request's budget: a batch of lighter documents still fits", async () => {
    const limits = { ...harness.env, MAX_VALIDATION_STEPS: "40000", MAX_DOCUMENT_STEPS: "8000" };
    // As above: about 100 units per item.
    const schema = { items: { anyOf: Array.from({ length: 50 }, (_, i) => ({ const: i })) } };
    const send = (path: string, body: unknown) =>
      harness.request(
        path,
        {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: JSON.stringify({ schema, ...(body as object) }),
        },
        limits,
      );
    const heavy = Array.from({ length: 100 }, () => 49);
    const light = Array.from({ length: 60 }, () => 49);
    // 10,000 units: within the request's 40,000, over one document's 8,000.
    const single = await send("/v1/validate", { data: heavy });
    expect(single.status).toBe(422);
    expect(await problemOf(single)).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "cpu_budget" });
    // Four documents of about 6,000 units each: 24,000 in all, each under 8,000.
    const batch = await send("/v1/validate/batch", { documents: [light, light, light, light] });
    expect(batch.status).toBe(200);
    expect(((await batch.json()) as { valid: boolean }).valid).toBe(true);
    await harness.settle();
  });

  it("errors are capped by MAX_ERROR_BYTES: a long pattern quoted in each error cannot multiply the response", async () => {
    const capped = { ...harness.env, MAX_ERROR_BYTES: "4096", MAX_DOCUMENT_BYTES: "100000" };
    const response = await harness.request(
      "/v1/validate",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({
          schema: { items: { pattern: "b".repeat(1500) } },
          data: ["a", "a", "a", "a", "a"],
        }),
      },
      capped,
    );
    await harness.settle();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { valid: boolean; truncated?: boolean; errors: unknown[] };
    expect(body.valid).toBe(false);
    expect(body.truncated).toBe(true);
    expect(body.errors.length).toBeGreaterThanOrEqual(1);
    expect(body.errors.length).toBeLessThan(5);
    expect(JSON.stringify(body.errors).length).toBeLessThanOrEqual(4096 + 100);
  });

  it("`data` is held to MAX_DOCUMENT_BYTES by its JSON text, as `json` is", async () => {
    const problem = await refusal({ schema: {}, data: "x".repeat(2000) }, "LIMIT_EXCEEDED");
    expect(problem.limit).toBe("max_document_bytes");
  });

  it("schema URLs: private addresses and redirects to them are refused (SSRF)", async () => {
    const privateUrl = await refusal(
      { schema_url: "https://169.254.169.254/schema.json", data: 1 },
      "SCHEMA_UNAVAILABLE",
    );
    expect(privateUrl.reason).toBe("private_address");
    const plainHttp = await refusal(
      { schema_url: "http://example.com/s.json", data: 1 },
      "SCHEMA_UNAVAILABLE",
    );
    expect(plainHttp.reason).toBe("scheme_not_allowed");
    const redirected = await refusal(
      { schema_url: `http://${schemaHost}/to-metadata`, data: 1 },
      "SCHEMA_UNAVAILABLE",
    );
    expect(redirected.reason).toBe("scheme_not_allowed");
  });
});

describe("schema_url", () => {
  it("fetches an allowlisted schema and validates against it", async () => {
    const result = await verdict({
      schema_url: `http://${schemaHost}/order.json`,
      data: { id: "ord_1", items: [] },
    });
    expect(result.valid).toBe(false);
    expect(result.errors[0].absoluteKeywordLocation).toContain(`http://${schemaHost}/order.json#`);
  });
});

describe("bad requests", () => {
  it("400 for both or neither document fields, 401 without a token", async () => {
    for (const body of [
      { schema: true },
      { schema: true, data: 1, json: "1" },
      { data: 1 },
      { schema: true, data: 1, extra: 1 },
    ]) {
      const response = await validate(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await problemOf(response)).code).toBe("BAD_REQUEST");
    }
    const anonymous = await harness.request("/v1/validate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ schema: true, data: 1 }),
    });
    expect(anonymous.status).toBe(401);
  });
});

describe("POST /v1/validate/batch", () => {
  it("results in order; units = documents (x2 with enrichment)", async () => {
    const response = await validate(
      { schema: { type: "integer" }, documents: [1, "two", 3] },
      "/v1/validate/batch",
    );
    const result = (await response.json()) as Record<string, any>;
    expect(result.valid).toBe(false);
    expect(result.results.map((entry: { valid: boolean }) => entry.valid)).toEqual([true, false, true]);
    expect(result.units).toBe(3);
    expect(await unitsFor(response.headers.get("X-Request-Id")!)).toEqual([3]);
    const enriched = await verdict(
      { schema: { type: "integer" }, documents: [1, 2], enrich: true },
      "/v1/validate/batch",
    );
    expect(enriched.units).toBe(4);
  });

  it("more documents than MAX_BATCH_DOCUMENTS: 422, not billed", async () => {
    const response = await validate({ schema: true, documents: [1, 2, 3, 4, 5, 6] }, "/v1/validate/batch");
    expect(response.status).toBe(422);
    expect(await problemOf(response)).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "max_batch_documents" });
    const units = await unitsFor(response.headers.get("X-Request-Id")!);
    expect(units.reduce((sum, unit) => sum + unit, 0)).toBe(0);
  });
});
