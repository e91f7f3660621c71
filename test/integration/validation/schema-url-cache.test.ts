/**
 * schema_url caching through POST /v1/validate, against a local origin that counts what it is asked:
 * a document without cache headers is fetched once for many calls (60 s default), a stale one is
 * revalidated with its ETag / Last-Modified (304, not re-downloaded), no-store is fetched every time.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, startAccessHarness } from "../harness/access";

let harness: AccessHarness;
let token: string;
let origin: Server;
let host: string;

interface Served {
  path: string;
  status: number;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}
const served: Served[] = [];
const servedFor = (path: string) => served.filter((entry) => entry.path === path);

const lastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
/** Each path: its schema and the headers it is served with. */
const documents: Record<string, { schema: unknown; headers: Record<string, string> }> = {
  // The common case the issue measured: a static host sending no cache headers at all.
  "/plain.json": {
    schema: { type: "object", properties: { item: { $ref: "item.json" } } },
    headers: {},
  },
  "/item.json": { schema: { type: "integer" }, headers: {} },
  "/short-etag.json": { schema: { type: "string" }, headers: { "Cache-Control": "max-age=1", ETag: '"v1"' } },
  "/short-modified.json": {
    schema: { type: "string" },
    headers: { "Cache-Control": "max-age=1", "Last-Modified": lastModified },
  },
  "/no-store.json": { schema: { type: "string" }, headers: { "Cache-Control": "no-store", ETag: '"v1"' } },
};

function answer(request: IncomingMessage) {
  const path = request.url ?? "/";
  const document = documents[path];
  const ifNoneMatch = request.headers["if-none-match"];
  const ifModifiedSince = request.headers["if-modified-since"];
  if (!document) return { path, status: 404, ifNoneMatch, ifModifiedSince };
  const notModified =
    (ifNoneMatch !== undefined && ifNoneMatch === document.headers.ETag) ||
    (ifModifiedSince !== undefined && ifModifiedSince === document.headers["Last-Modified"]);
  return { path, status: notModified ? 304 : 200, ifNoneMatch, ifModifiedSince, document };
}

beforeAll(async () => {
  origin = createServer((request, response) => {
    const { document, ...entry } = answer(request);
    served.push(entry);
    if (entry.status !== 200 || !document) return response.writeHead(entry.status).end();
    response.writeHead(200, { "Content-Type": "application/schema+json", ...document.headers });
    response.end(JSON.stringify(document.schema));
  });
  await new Promise<void>((listening) => origin.listen(0, "127.0.0.1", listening));
  host = `127.0.0.1:${(origin.address() as AddressInfo).port}`;
  harness = await startAccessHarness({
    env: {
      SCHEMA_FETCH_ALLOWLIST: host,
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
    },
  });
  token = (await harness.account("pro")).token;
});

afterAll(async () => {
  await harness?.stop();
  origin?.closeAllConnections();
  await new Promise((closed) => origin?.close(closed));
});

async function validate(path: string, data: unknown) {
  const response = await harness.request("/v1/validate", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ schema_url: `http://${host}${path}`, data }),
  });
  const body = (await response.json()) as { valid?: boolean };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.valid;
}

describe("schema_url caching through the API", () => {
  it("fetches a document without cache headers (and its remote $ref) once for 114 calls", async () => {
    for (let call = 0; call < 114; call++) {
      expect(await validate("/plain.json", { item: call % 2 ? call : "not an integer" })).toBe(
        call % 2 === 1,
      );
    }
    const fetches = servedFor("/plain.json").length + servedFor("/item.json").length;
    console.log(`114 calls with a schema_url and one remote $ref, no cache headers: ${fetches} fetches`);
    expect(servedFor("/plain.json")).toHaveLength(1);
    expect(servedFor("/item.json")).toHaveLength(1);
  });

  it("revalidates a stale document with its ETag or Last-Modified: 304, same verdicts", async () => {
    for (const path of ["/short-etag.json", "/short-modified.json"]) {
      expect(await validate(path, "a")).toBe(true);
      expect(await validate(path, 1)).toBe(false);
      expect(servedFor(path)).toHaveLength(1);
    }
    await new Promise((elapsed) => setTimeout(elapsed, 1_100));
    expect(await validate("/short-etag.json", 1)).toBe(false);
    expect(await validate("/short-modified.json", "b")).toBe(true);
    expect(servedFor("/short-etag.json")[1]).toMatchObject({ status: 304, ifNoneMatch: '"v1"' });
    expect(servedFor("/short-modified.json")[1]).toMatchObject({
      status: 304,
      ifModifiedSince: lastModified,
    });
  });

  it("fetches a no-store document on every call, without validators", async () => {
    for (let call = 0; call < 3; call++) expect(await validate("/no-store.json", "a")).toBe(true);
    expect(servedFor("/no-store.json").map((entry) => [entry.status, entry.ifNoneMatch])).toEqual([
      [200, undefined],
      [200, undefined],
      [200, undefined],
    ]);
  });
});
