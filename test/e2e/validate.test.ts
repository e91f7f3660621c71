/**
 * The product end to end in real workerd (`wrangler dev`), where eval and new Function throw as
 * in production: sign up, mint a token, validate. The engine compiling and validating here is
 * the proof that it is eval-free; the vitest Workers pool would allow eval and prove nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_DIR } from "../support/fixtures";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { CORPUS_DIR } from "../support/real-world-corpus";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;
let token: string;

const api = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: {
      ...stack.vars,
      RATE_LIMIT_TIERS: '{"free":{"limit":100,"windowSeconds":10}}',
      ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
    },
  });
  const signup = await post("/v1/signup", { email: "e2e-validate@example.com" });
  expect(signup.status, await signup.clone().text()).toBe(201);
  const { api_key: apiKey } = (await signup.json()) as { api_key: string };
  const minted = await api("/v1/token", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` } });
  expect(minted.status).toBe(200);
  token = ((await minted.json()) as { token: string }).token;
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

describe("validation in real workerd (no eval)", () => {
  it("validates by a registered schema: published, compiled once, its document through the Cache API", async () => {
    const put = (path: string, body: unknown) =>
      api(path, {
        method: "PUT",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const address = await put("/v1/schemas/e2e-address", { type: "object", required: ["city"] });
    expect(address.status, await address.clone().text()).toBe(201);
    const customer = await put("/v1/schemas/e2e-customer", {
      type: "object",
      properties: { address: { $ref: "urn:schema-meter:schema:e2e-address@1" } },
    });
    expect(customer.status, await customer.clone().text()).toBe(201);
    for (const attempt of [1, 2]) {
      const invalid = await post("/v1/validate", { schema_id: "e2e-customer", data: { address: {} } });
      expect(invalid.status, `attempt ${attempt}: ${await invalid.clone().text()}`).toBe(200);
      expect(await invalid.json()).toMatchObject({ valid: false, units: 1 });
    }
    const valid = await post("/v1/validate", {
      schema_id: "e2e-customer@1",
      data: { address: { city: "Oslo" } },
    });
    expect(await valid.json()).toMatchObject({ valid: true });
    const retired = await api("/v1/schemas/e2e-address", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(retired.status).toBe(200);
    expect((await post("/v1/validate", { schema_id: "e2e-address", data: {} })).status).toBe(410);
  });

  it("validates the mid-size order document, valid and invalid", async () => {
    const read = (name: string) => JSON.parse(readFileSync(resolve(BENCH_DIR, name), "utf8")) as unknown;
    if (!existsSync(BENCH_DIR)) throw new Error(`bench data missing at ${BENCH_DIR}`);
    const schema = read("order.schema.json");
    const valid = await post("/v1/validate", { schema, data: read("order.valid.json") });
    expect(valid.status, await valid.clone().text()).toBe(200);
    expect(await valid.json()).toMatchObject({ valid: true, units: 1 });

    const invalid = await post("/v1/validate", {
      schema,
      data: read("order.invalid.json"),
      output: "detailed",
    });
    const verdict = (await invalid.json()) as { valid: boolean; errors: unknown[] };
    expect(invalid.status).toBe(200);
    expect(verdict.valid).toBe(false);
    expect(verdict.errors.length).toBeGreaterThan(0);
  });

  it("dynamic references, unevaluated properties, formats and enrichment compile and run", async () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://example.com/tree",
      $dynamicAnchor: "node",
      type: "object",
      properties: {
        when: { type: "string", format: "date-time" },
        size: { type: "integer", default: 1 },
        children: { type: "array", items: { $dynamicRef: "#node" } },
      },
      unevaluatedProperties: false,
    };
    const response = await post("/v1/validate", {
      schema,
      data: { when: "2026-01-01T12:00:00+01:00", children: [{ children: [] }] },
      format_assertion: true,
      enrich: true,
    });
    const result = (await response.json()) as {
      valid: boolean;
      data: Record<string, unknown>;
      units: number;
    };
    expect(response.status, JSON.stringify(result)).toBe(200);
    expect(result).toMatchObject({ valid: true, units: 2, data: { when: "2026-01-01T11:00:00Z", size: 1 } });

    const extra = await post("/v1/validate", { schema, data: { children: [{ stray: true }] } });
    expect(((await extra.json()) as { valid: boolean }).valid).toBe(false);
  });

  it("a catastrophic-backtracking pattern answers promptly", async () => {
    const started = Date.now();
    const response = await post("/v1/validate", {
      schema: { pattern: "^(a|aa)+$" },
      data: `${"a".repeat(10_000)}b`,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { valid: boolean }).valid).toBe(false);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("real-world schemas: later-draft keywords, an inline root $id as base, the 1.9 MB vega-lite schema", async () => {
    const bindings = {
      $schema: "http://json-schema.org/draft-04/schema#",
      oneOf: [
        { properties: { type: { const: "file" } }, required: ["type", "path"] },
        { properties: { type: { const: "url" } }, required: ["type", "href"] },
      ],
    };
    const data = { type: "file", path: "a", href: "b" };
    const compatible = await post("/v1/validate", { schema: bindings, data });
    expect(await compatible.json()).toMatchObject({ valid: true });
    const strict = await post("/v1/validate", { schema: bindings, data, dialect: "strict" });
    expect(await strict.json()).toMatchObject({ valid: false });

    const place = {
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: "https://example.org/place.json",
      $ref: "thing.json",
      definitions: { thing: { $id: "https://example.org/thing.json", required: ["name"] } },
    };
    expect(await (await post("/v1/validate", { schema: place, data: {} })).json()).toMatchObject({
      valid: false,
    });

    const vegaLite = readFileSync(resolve(CORPUS_DIR, "vega-lite--spec", "schema.json"), "utf8");
    const chart = {
      mark: "bar",
      data: { values: [{ a: 1 }] },
      encoding: { x: { field: "a", type: "nominal" } },
    };
    const big = await post("/v1/validate", `{"schema":${vegaLite},"data":${JSON.stringify(chart)}}`);
    expect(big.status, await big.clone().text()).toBe(200);
    expect(await big.json()).toMatchObject({ valid: true });
  });

  it("batch and the 422s in workerd", async () => {
    const batch = await post("/v1/validate/batch", { schema: { type: "string" }, documents: ["a", 1] });
    expect(await batch.json()).toMatchObject({ valid: false, units: 2 });
    const notJson = await post("/v1/validate", { schema: true, json: "{oops" });
    expect(notJson.status).toBe(422);
    expect(await notJson.json()).toMatchObject({ code: "DOCUMENT_NOT_JSON", line: 1, column: 2 });
    const ssrf = await post("/v1/validate", {
      schema_url: "https://169.254.169.254/latest/meta-data",
      data: 1,
    });
    expect(ssrf.status).toBe(422);
    expect(await ssrf.json()).toMatchObject({ code: "SCHEMA_UNAVAILABLE", reason: "private_address" });
  });

  it("a malformed JSON body is 400 problem+json with a request id", async () => {
    const response = await post("/v1/validate", '{"schema": true, "data": ');
    expect(response.status).toBe(400);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: "MALFORMED_JSON" });
    expect(problem.request_id).toBe(response.headers.get("X-Request-Id"));
    const trailing = await post("/v1/validate", '{"schema": true,\n "data": 1,\n}');
    expect(await trailing.json()).toMatchObject({
      code: "MALFORMED_JSON",
      line: 3,
      column: 1,
      hint: expect.stringContaining("Trailing comma"),
    });
  });

  it("actionable errors in workerd: warnings and strict, a located SCHEMA_INVALID, detail and positions", async () => {
    const typo = { properties: { id: { type: "integer" } }, requried: ["id"] };
    const warned = (await (await post("/v1/validate", { schema: typo, data: {} })).json()) as Record<
      string,
      any
    >;
    expect(warned).toMatchObject({
      valid: true,
      warnings: [{ keyword: "requried", suggestion: "required" }],
    });
    const strict = await post("/v1/validate", { schema: typo, data: {}, strict: true });
    expect(strict.status).toBe(422);
    expect(await strict.json()).toMatchObject({ code: "SCHEMA_INVALID", schemaLocation: "/requried" });

    const strng = await post("/v1/validate", {
      schema: { properties: { name: { type: "strng" } } },
      data: {},
    });
    expect(await strng.json()).toMatchObject({
      code: "SCHEMA_INVALID",
      schemaLocation: "/properties/name/type",
      suggestion: 'Did you mean "string"?',
    });

    const json = '{\n  "customer": {"emial": "a@b.c"}\n}';
    const schema = { properties: { customer: { required: ["email"] } } };
    const verdict = (await (await post("/v1/validate", { schema, json })).json()) as Record<string, any>;
    expect(verdict.errors).toEqual([
      expect.objectContaining({
        keyword: "required",
        instanceLocation: "/customer/email",
        absoluteKeywordLocation: "#/properties/customer/required",
        params: { missingProperty: "email" },
        suggestion: 'The document has "emial": did you mean "email"?',
        line: 2,
        column: 15,
      }),
    ]);
  });
});
