import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchemaFetcher, SchemaFetchError } from "./schema-fetcher";

/** A fake network: a handler per URL, recording what was requested. */
function fakeNetwork(routes: Record<string, (init?: RequestInit) => Response>) {
  const requested: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    requested.push(url);
    const route = routes[url];
    if (!route) throw new TypeError(`no route to ${url}`);
    return route(init);
  }) as typeof globalThis.fetch;
  return { fetch, requested };
}

const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json", ...headers } });
const redirect = (location: string) => new Response(null, { status: 302, headers: { Location: location } });

async function failure(promise: Promise<unknown>): Promise<SchemaFetchError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SchemaFetchError);
  return error as SchemaFetchError;
}

describe("schema fetcher", () => {
  it("fetches a public https schema", async () => {
    const net = fakeNetwork({ "https://schemas.example.com/a.json": () => json({ type: "string" }) });
    const fetched = await createSchemaFetcher({ fetch: net.fetch })("https://schemas.example.com/a.json#/x");
    expect(fetched.body).toEqual({ type: "string" });
    expect(fetched.version).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("refuses a private address before any request is made", async () => {
    const net = fakeNetwork({});
    const error = await failure(createSchemaFetcher({ fetch: net.fetch })("https://169.254.169.254/latest"));
    expect(error.reason).toBe("private_address");
    expect(net.requested).toEqual([]);
  });

  it("re-checks every redirect: a public host redirecting to metadata or loopback is refused", async () => {
    const net = fakeNetwork({
      "https://evil.example.com/s.json": () => redirect("http://169.254.169.254/latest/meta-data/"),
      "https://evil.example.com/t.json": () => redirect("https://[::1]/secret"),
      "https://evil.example.com/u.json": () => redirect("https://localhost/"),
    });
    const fetchSchema = createSchemaFetcher({ fetch: net.fetch });
    expect((await failure(fetchSchema("https://evil.example.com/s.json"))).reason).toBe("scheme_not_allowed");
    expect((await failure(fetchSchema("https://evil.example.com/t.json"))).reason).toBe("private_address");
    expect((await failure(fetchSchema("https://evil.example.com/u.json"))).reason).toBe("internal_host");
    expect(net.requested).toEqual([
      "https://evil.example.com/s.json",
      "https://evil.example.com/t.json",
      "https://evil.example.com/u.json",
    ]);
  });

  it("follows at most 3 redirects, resolving relative locations", async () => {
    const net = fakeNetwork({
      "https://a.example.com/0": () => redirect("/1"),
      "https://a.example.com/1": () => redirect("https://b.example.com/2"),
      "https://b.example.com/2": () => redirect("3"),
      "https://b.example.com/3": () => json({ ok: true }),
      "https://c.example.com/0": () => redirect("/1"),
      "https://c.example.com/1": () => redirect("/2"),
      "https://c.example.com/2": () => redirect("/3"),
      "https://c.example.com/3": () => redirect("/4"),
    });
    const fetchSchema = createSchemaFetcher({ fetch: net.fetch });
    expect((await fetchSchema("https://a.example.com/0")).body).toEqual({ ok: true });
    expect((await failure(fetchSchema("https://c.example.com/0"))).reason).toBe("too_many_redirects");
    expect(net.requested).not.toContain("https://c.example.com/4");
  });

  it("caps the size, from Content-Length or while streaming", async () => {
    const big = "x".repeat(2000);
    const net = fakeNetwork({
      // A small, valid body declared as large: only the Content-Length check can refuse it.
      "https://s.example.com/declared": () =>
        new Response("{}", { headers: { "Content-Type": "application/json", "Content-Length": "5000" } }),
      "https://s.example.com/streamed": () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(big));
              controller.close();
            },
          }),
        ),
    });
    const fetchSchema = createSchemaFetcher({ fetch: net.fetch, maxBytes: 1000 });
    expect((await failure(fetchSchema("https://s.example.com/declared"))).reason).toBe("too_large");
    expect((await failure(fetchSchema("https://s.example.com/streamed"))).reason).toBe("too_large");
  });

  it("reports HTTP errors and non-JSON bodies", async () => {
    const net = fakeNetwork({
      "https://s.example.com/missing": () => new Response("nope", { status: 404 }),
      "https://s.example.com/html": () => new Response("<html>"),
    });
    const fetchSchema = createSchemaFetcher({ fetch: net.fetch });
    const missing = await failure(fetchSchema("https://s.example.com/missing"));
    expect(missing.reason).toBe("http_error");
    expect(missing.message).toContain("404");
    expect((await failure(fetchSchema("https://s.example.com/html"))).reason).toBe("not_json");
  });

  it("reuses fresh responses, and revalidates stale ones with the ETag", async () => {
    let clock = 0;
    let served = 0;
    let notModified = 0;
    const net = fakeNetwork({
      "https://c.example.com/s.json": (init) => {
        served++;
        const etag = '"v1"';
        if (new Headers(init?.headers).get("If-None-Match") === etag) {
          notModified++;
          return new Response(null, { status: 304, headers: { "Cache-Control": "max-age=60", ETag: etag } });
        }
        return json({ type: "integer" }, { "Cache-Control": "max-age=60", ETag: etag });
      },
    });
    const fetchSchema = createSchemaFetcher({ fetch: net.fetch, now: () => clock });
    const first = await fetchSchema("https://c.example.com/s.json");
    await fetchSchema("https://c.example.com/s.json");
    expect(served).toBe(1);
    expect(notModified).toBe(0);
    clock += 61_000;
    const revalidated = await fetchSchema("https://c.example.com/s.json");
    expect(served).toBe(2);
    // The re-request carried If-None-Match and was answered 304, not re-downloaded.
    expect(notModified).toBe(1);
    expect(revalidated.body).toEqual(first.body);
    expect(revalidated.version).toBe('etag:"v1"');
  });
});

describe("schema fetcher freshness", () => {
  /** One URL answering with `headers`, 304 when the request carries a matching validator. */
  function origin(headers: Record<string, string>) {
    const log: { ifNoneMatch: string | null; ifModifiedSince: string | null; status: number }[] = [];
    const net = fakeNetwork({
      "https://o.example.com/s.json": (init) => {
        const request = new Headers(init?.headers);
        const ifNoneMatch = request.get("If-None-Match");
        const ifModifiedSince = request.get("If-Modified-Since");
        const matches =
          (ifNoneMatch !== null && ifNoneMatch === headers.ETag) ||
          (ifModifiedSince !== null && ifModifiedSince === headers["Last-Modified"]);
        log.push({ ifNoneMatch, ifModifiedSince, status: matches ? 304 : 200 });
        return matches ? new Response(null, { status: 304 }) : json({ type: "string" }, headers);
      },
    });
    return { fetch: net.fetch, log };
  }
  const url = "https://o.example.com/s.json";

  it("keeps a document without cache headers for 60 s, then revalidates it with Last-Modified", async () => {
    let clock = 0;
    const server = origin({ "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT" });
    const fetchSchema = createSchemaFetcher({ fetch: server.fetch, now: () => clock });
    await fetchSchema(url);
    clock += 59_000;
    await fetchSchema(url);
    expect(server.log).toHaveLength(1);
    clock += 2_000;
    expect((await fetchSchema(url)).body).toEqual({ type: "string" });
    expect(server.log[1]).toEqual({
      ifNoneMatch: null,
      ifModifiedSince: "Tue, 01 Dec 2026 10:00:00 GMT",
      status: 304,
    });
    // The 304 said nothing about freshness: the 60 s default is granted again.
    clock += 59_000;
    await fetchSchema(url);
    expect(server.log).toHaveLength(2);
  });

  it("honours no-store (never kept) and no-cache (kept, revalidated on every use)", async () => {
    const noStore = origin({ "Cache-Control": "no-store", ETag: '"a"' });
    const fetchNoStore = createSchemaFetcher({ fetch: noStore.fetch });
    for (let i = 0; i < 3; i++) await fetchNoStore(url);
    expect(noStore.log.map((entry) => entry.status)).toEqual([200, 200, 200]);
    expect(noStore.log.every((entry) => entry.ifNoneMatch === null)).toBe(true);

    const noCache = origin({ "Cache-Control": "no-cache", ETag: '"b"' });
    const fetchNoCache = createSchemaFetcher({ fetch: noCache.fetch });
    for (let i = 0; i < 3; i++) expect((await fetchNoCache(url)).version).toBe('etag:"b"');
    expect(noCache.log.map((entry) => entry.status)).toEqual([200, 304, 304]);
  });

  it("honours max-age and Expires over the default", async () => {
    let clock = 0;
    const short = origin({ "Cache-Control": "public, max-age=5" });
    const fetchShort = createSchemaFetcher({ fetch: short.fetch, now: () => clock });
    await fetchShort(url);
    clock += 6_000;
    await fetchShort(url);
    expect(short.log).toHaveLength(2);

    const date = "Tue, 01 Dec 2026 10:00:00 GMT";
    const expires = origin({ Date: date, Expires: "Tue, 01 Dec 2026 10:10:00 GMT" });
    const fetchExpires = createSchemaFetcher({ fetch: expires.fetch, now: () => clock });
    await fetchExpires(url);
    clock += 599_000;
    await fetchExpires(url);
    expect(expires.log).toHaveLength(1);
  });

  it("shares one fetch between concurrent requests for a URL", async () => {
    const server = origin({});
    const fetchSchema = createSchemaFetcher({ fetch: server.fetch });
    const results = await Promise.all(Array.from({ length: 5 }, () => fetchSchema(url)));
    expect(new Set(results.map((result) => result.version)).size).toBe(1);
    expect(server.log).toHaveLength(1);
  });
});

describe("schema fetcher cache bound", () => {
  it("keeps response bodies within cacheBytes, evicting the least recently used", async () => {
    let served = 0;
    const body = { description: "x".repeat(600) };
    const routes = Object.fromEntries(
      ["a", "b"].map((name) => [
        `https://c.example.com/${name}.json`,
        () => {
          served++;
          return json(body, { "Cache-Control": "max-age=600" });
        },
      ]),
    );
    const fetchSchema = createSchemaFetcher({ fetch: fakeNetwork(routes).fetch, cacheBytes: 1000 });
    await fetchSchema("https://c.example.com/a.json");
    await fetchSchema("https://c.example.com/a.json");
    expect(served).toBe(1);
    await fetchSchema("https://c.example.com/b.json"); // 2 x ~620 bytes > 1000: a is evicted
    await fetchSchema("https://c.example.com/a.json");
    expect(served).toBe(3);
  });
});

describe("schema fetcher against a real server", () => {
  let server: Server;
  let host: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === "/slow") return; // never answers
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ served: request.url }));
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  });

  it("refuses loopback unless allowlisted, then fetches over plain http", async () => {
    expect((await failure(createSchemaFetcher()(`http://${host}/a`))).reason).toBe("scheme_not_allowed");
    expect((await failure(createSchemaFetcher()(`https://${host}/a`))).reason).toBe("private_address");
    const fetched = await createSchemaFetcher({ allowlist: [host] })(`http://${host}/a`);
    expect(fetched.body).toEqual({ served: "/a" });
  });

  it("gives up after the time budget", async () => {
    const started = Date.now();
    const error = await failure(
      createSchemaFetcher({ allowlist: [host], timeoutMs: 200 })(`http://${host}/slow`),
    );
    expect(error.reason).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
