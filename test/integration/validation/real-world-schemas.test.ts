/**
 * What real schema authors write, through POST /v1/validate with the production limits (issue 13):
 * later-draft keywords in earlier drafts (and `"dialect": "strict"`), the base URI of inline and
 * fetched schemas, and limits sized for multi-MB schemas with compilation itself bounded.
 * Remote documents come from a local HTTP server on SCHEMA_FETCH_ALLOWLIST.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CORPUS_DIR } from "../../support/real-world-corpus";
import { type AccessHarness, problemOf, startAccessHarness, usageStream } from "../harness/access";

const DRAFT_04 = "http://json-schema.org/draft-04/schema#";
const DRAFT_06 = "http://json-schema.org/draft-06/schema#";
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

let harness: AccessHarness;
let token: string;
let server: Server;
let origin: string;
/** Documents the local server serves, by path; requests are recorded. */
const documents = new Map<string, unknown>();
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requested.push(request.url ?? "");
    const document = documents.get(request.url ?? "");
    if (document === undefined) {
      response.writeHead(404);
      return response.end();
    }
    response.setHeader("Content-Type", "application/schema+json");
    response.end(JSON.stringify(document));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin = `http://${host}`;
  harness = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
      SCHEMA_FETCH_ALLOWLIST: host,
    },
  });
  token = (await harness.account("pro")).token;
});

afterAll(async () => {
  await harness?.stop();
  server?.closeAllConnections();
  await new Promise((closed) => server?.close(closed));
});

async function post(body: unknown | string, path = "/v1/validate") {
  const response = await harness.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  await harness.settle();
  return response;
}

async function verdict(body: unknown): Promise<boolean> {
  const response = await post(body);
  const json = (await response.json()) as { valid?: boolean };
  expect(response.status, JSON.stringify(json)).toBe(200);
  return json.valid as boolean;
}

async function refusal(body: unknown | string, code: string): Promise<Record<string, unknown>> {
  const response = await post(body);
  const problem = await problemOf(response);
  expect(problem.code, JSON.stringify(problem)).toBe(code);
  return problem;
}

// A serverless-functions binding schema in draft-04 whose oneOf branches differ only by `const`.
const bindings = {
  $schema: DRAFT_04,
  oneOf: [
    { properties: { type: { const: "file" } }, required: ["type", "path"] },
    { properties: { type: { const: "url" } }, required: ["type", "href"] },
  ],
};

describe("later-draft keywords in earlier drafts", () => {
  it("a draft-04 oneOf told apart by const validates as its author meant", async () => {
    expect(await verdict({ schema: bindings, data: { type: "file", path: "a", href: "b" } })).toBe(true);
    expect(await verdict({ schema: bindings, data: { type: "file", href: "b" } })).toBe(false);
  });

  it('"dialect": "strict" reads the letter of the draft: const unknown, both branches match', async () => {
    const data = { type: "file", path: "a", href: "b" };
    expect(await verdict({ schema: bindings, data, dialect: "strict" })).toBe(false);
    // The two readings are cached apart: the default still applies const.
    expect(await verdict({ schema: bindings, data })).toBe(true);
    expect(await verdict({ schema: bindings, data, dialect: "compatible" })).toBe(true);
  });

  it("draft-04 contains and propertyNames, draft-06 if/then/else; strict ignores each", async () => {
    const env = { $schema: DRAFT_04, propertyNames: { pattern: "^[A-Z_]+$" }, contains: { const: "main" } };
    expect(await verdict({ schema: env, data: { lower: 1 } })).toBe(false);
    expect(await verdict({ schema: env, data: ["x"] })).toBe(false);
    expect(await verdict({ schema: env, data: ["main"] })).toBe(true);
    expect(await verdict({ schema: env, data: { lower: 1 }, dialect: "strict" })).toBe(true);
    const tls = JSON.parse(
      `{"$schema": "${DRAFT_06}", "if": {"properties": {"port": {"const": 443}}}, "then": {"required": ["cert"]}}`,
    ) as unknown;
    expect(await verdict({ schema: tls, data: { port: 443 } })).toBe(false);
    expect(await verdict({ schema: tls, data: { port: 443, cert: "c" } })).toBe(true);
    expect(await verdict({ schema: tls, data: { port: 443 }, dialect: "strict" })).toBe(true);
  });

  it("the batch route takes the option too; an unknown dialect is 400", async () => {
    const response = await post(
      { schema: bindings, documents: [{ type: "file", path: "a", href: "b" }], dialect: "strict" },
      "/v1/validate/batch",
    );
    expect(((await response.json()) as { results: { valid: boolean }[] }).results[0]?.valid).toBe(false);
    const bad = await post({ schema: bindings, data: 1, dialect: "loose" });
    expect(bad.status).toBe(400);
  });
});

describe("the base URI", () => {
  it("an inline root $id beside $ref (draft-07) is where relative refs resolve, bundled or remote", async () => {
    const bundled = {
      $schema: DRAFT_07,
      $id: "https://example.org/place.json",
      $ref: "thing.json",
      definitions: { thing: { $id: "https://example.org/thing.json", required: ["name"] } },
    };
    expect(await verdict({ schema: bundled, data: { name: "x" } })).toBe(true);
    expect(await verdict({ schema: bundled, data: {} })).toBe(false);

    documents.set("/geo/thing.json", { type: "object", required: ["lat"] });
    const remote = { $schema: DRAFT_07, $id: `${origin}/geo/place.json`, $ref: "thing.json" };
    expect(await verdict({ schema: remote, data: { lat: 1 } })).toBe(true);
    expect(await verdict({ schema: remote, data: {} })).toBe(false);
    expect(requested).toContain("/geo/thing.json");
  });

  it("a schema_url's URL is its retrieval URI: its relative $refs resolve against it", async () => {
    documents.set("/v2/order.json", { $schema: DRAFT_07, $ref: "parts/line.json" });
    documents.set("/v2/parts/line.json", { required: ["sku"] });
    const body = { schema_url: `${origin}/v2/order.json` };
    expect(await verdict({ ...body, data: { sku: "a" } })).toBe(true);
    expect(await verdict({ ...body, data: {} })).toBe(false);
  });

  it("an unresolvable reference names the absolute URI tried and the base it used", async () => {
    const local = await refusal(
      { schema: { $id: "https://example.org/a/place.json", $ref: "#/$defs/missing" }, data: 1 },
      "SCHEMA_UNRESOLVABLE",
    );
    expect(local.ref).toBe("https://example.org/a/place.json#/$defs/missing");
    expect(local.base).toBe("https://example.org/a/place.json");
    expect(local.detail).toContain("against the base https://example.org/a/place.json");

    const remote = await refusal(
      { schema: { $schema: DRAFT_07, $id: `${origin}/geo/place.json`, $ref: "nowhere.json" }, data: 1 },
      "SCHEMA_UNAVAILABLE",
    );
    expect(remote).toMatchObject({
      url: `${origin}/geo/nowhere.json`,
      reason: "http_error",
      ref: `${origin}/geo/nowhere.json`,
      base: `${origin}/geo/place.json`,
    });
    expect(remote.detail).toBe(
      `${origin}/geo/nowhere.json answered HTTP 404 (cannot resolve $ref "nowhere.json" at /: tried ${origin}/geo/nowhere.json (against the base ${origin}/geo/place.json))`,
    );
  });
});

describe("limits sized for real schemas", () => {
  it("the corpus' largest schema (vega-lite, 1.9 MB) with its document validates inline", async () => {
    const schema = readFileSync(join(CORPUS_DIR, "vega-lite--spec", "schema.json"), "utf8");
    const chart = {
      mark: "bar",
      data: { values: [{ a: 1 }] },
      encoding: { x: { field: "a", type: "nominal" } },
    };
    const response = await post(`{"schema":${schema},"data":${JSON.stringify(chart)}}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { valid: boolean }).valid).toBe(true);
    const typo = await post(`{"schema":${schema},"data":${JSON.stringify({ ...chart, mark: "barr" })}}`);
    expect(((await typo.json()) as { valid: boolean }).valid).toBe(false);
  });

  it("a body over MAX_BODY_BYTES (4 MiB) is 413", async () => {
    const response = await post({ schema: { description: "x".repeat(4 * 1024 * 1024) }, data: 1 });
    expect(response.status).toBe(413);
  });

  /** The units a refused request admitted, summed with their compensation: nothing billed. */
  async function billedUnits(response: Response): Promise<number> {
    const id = response.headers.get("X-Request-Id");
    const records = (await usageStream(harness)).filter((record) => record.request_id === id);
    return records.reduce((sum, record) => sum + Number(record.units), 0);
  }

  it("compiling spends from the work budget: 60,000 subschemas are refused as cpu_budget, not billed", async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 60_000; i++) properties[`p${i}`] = { type: "string", minLength: 1 };
    const response = await post({ schema: { type: "object", properties }, data: {} });
    expect(await problemOf(response)).toMatchObject({ code: "LIMIT_EXCEEDED", limit: "cpu_budget" });
    expect(await billedUnits(response)).toBe(0);
  });

  it("a schema whose compiled weight would pass MAX_COMPILED_SCHEMA_BYTES is refused while compiling", async () => {
    // 3.5 MB of text (8 bytes of weight each) and 12,000 subschemas (3,500 each): about 70 MB.
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 12_000; i++) properties[`p${i}`] = { type: "string", description: "d".repeat(250) };
    const response = await post({ schema: { type: "object", properties }, data: {} });
    expect(await problemOf(response)).toMatchObject({
      code: "LIMIT_EXCEEDED",
      limit: "max_compiled_schema_bytes",
    });
    expect(await billedUnits(response)).toBe(0);
  });

  it("tens of remote documents load; past MAX_REMOTE_DOCUMENTS (50) the schema is refused", async () => {
    const refs = (count: number, folder: string) => {
      const properties: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) {
        documents.set(`/${folder}/part-${i}.json`, { type: "integer" });
        properties[`p${i}`] = { $ref: `${origin}/${folder}/part-${i}.json` };
      }
      return { properties };
    };
    expect(await verdict({ schema: refs(40, "family"), data: { p0: 1, p39: 2 } })).toBe(true);
    expect(await verdict({ schema: refs(40, "family"), data: { p39: "x" } })).toBe(false);
    const problem = await refusal({ schema: refs(51, "crowd"), data: {} }, "LIMIT_EXCEEDED");
    expect(problem.limit).toBe("max_remote_documents");
  });
});
