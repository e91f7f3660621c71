/**
 * The PostgREST bridge, driven by the real `@supabase/postgrest-js` client (what supabase-js's `rpc` is) against a real Postgres
 * (a fresh database with migrations/ and test/fixtures/rpc-functions.sql applied). Expectations
 * are PostgREST 12's: result shapes, status codes and error bodies.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { PostgrestClient } from "@supabase/postgrest-js";
import { SignJWT } from "jose";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../support/migrate";
import {
  canConnect,
  createTestDatabase,
  findOrStartPostgres,
  type PostgresCluster,
  type PostgresHandle,
  startPostgresCluster,
  type TestDatabase,
} from "../support/postgres";
import { type PostgrestBridge, startPostgrestBridge } from "../support/postgrest-bridge";

const FIXTURES = resolve(import.meta.dirname, "../fixtures/rpc-functions.sql");
const jwtSecret = randomBytes(32).toString("base64url");

function sign(claims: Record<string, unknown>, secret = jwtSecret, expiresIn = "1h"): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** The client production uses (src/adapters/supabase): PostgREST's, with supabase-js's headers. */
function clientFor(url: string, key: string) {
  return new PostgrestClient(`${url}/rest/v1`, { headers: { apikey: key, Authorization: `Bearer ${key}` } });
}
type Client = ReturnType<typeof clientFor>;

async function prepareDatabase(server: Pick<PostgresHandle, "adminUrl">): Promise<TestDatabase> {
  const database = await createTestDatabase(server, "bridge_test");
  await applyMigrations(database.url);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(await readFile(FIXTURES, "utf8"));
  } finally {
    await client.end();
  }
  return database;
}

describe("PostgREST bridge", () => {
  let server: PostgresHandle;
  let database: TestDatabase;
  let bridge: PostgrestBridge;
  let service: Client;
  let serviceKey: string;

  beforeAll(async () => {
    server = await findOrStartPostgres();
    database = await prepareDatabase(server);
    bridge = await startPostgrestBridge({ databaseUrl: database.url, jwtSecret, statementTimeoutMs: 300 });
    serviceKey = await sign({ role: "service_role", iss: "supabase-local" });
    service = clientFor(bridge.url, serviceKey);
  });

  afterAll(async () => {
    await bridge?.close();
    await database?.drop();
    await server?.stop();
  });

  /** A raw request, for what the client cannot send (no token, bad bodies, odd headers). */
  function rawRpc(fn: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    return fetch(`${bridge.url}/rest/v1/rpc/${fn}`, {
      method: "POST",
      ...init,
      headers: { "Content-Type": "application/json", ...init.headers },
    });
  }

  describe("result shapes", () => {
    it("returns a scalar as the bare JSON value", async () => {
      const { data, error, status } = await service.rpc("add_them", { a: 1, b: 2 });
      expect(error).toBeNull();
      expect(status).toBe(200);
      expect(data).toBe(3);
    });

    it("keeps big numbers exact, as Postgres computed them", async () => {
      const response = await rawRpc("echo_numeric", {
        headers: { Authorization: `Bearer ${serviceKey}` },
        body: '{"n": 12345678901234567890.123456789}',
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("12345678901234567890.123456789");
    });

    it("returns null for a scalar function that yields NULL", async () => {
      const { data, error, status } = await service.rpc("nothing");
      expect(error).toBeNull();
      expect(status).toBe(200);
      expect(data).toBeNull();
    });

    it("returns a set of rows as an array of objects, with Content-Range", async () => {
      const { data, error } = await service.rpc("list_items", { max_id: 2 });
      expect(error).toBeNull();
      expect(data).toEqual([
        { id: 1, name: "alpha" },
        { id: 2, name: "beta" },
      ]);
      const response = await rawRpc("list_items", {
        headers: { Authorization: `Bearer ${serviceKey}`, Prefer: "count=exact" },
        body: "{}",
      });
      expect(response.headers.get("content-range")).toBe("0-2/3");
    });

    it("returns RETURNS TABLE rows as objects and SETOF scalars as an array of values", async () => {
      const table = await service.rpc("labelled_items", { prefix: "#" });
      expect(table.data).toEqual([
        { id: 1, label: "#alpha" },
        { id: 2, label: "#beta" },
        { id: 3, label: "#gamma" },
      ]);
      const names = await service.rpc("item_names");
      expect(names.data).toEqual(["alpha", "beta", "gamma"]);
      const ids = await service.rpc("item_ids"); // a one-column TABLE is still rows of objects
      expect(ids.data).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    });

    it("returns a composite as a single object", async () => {
      const { data, error } = await service.rpc("get_item", { item_id: 3 });
      expect(error).toBeNull();
      expect(data).toEqual({ id: 3, name: "gamma" });
    });

    it("answers a void function with 204 and no body, which the client reports as null data", async () => {
      const { data, error, status } = await service.rpc("tag_item", { item_id: 1, tag: "red" });
      expect(error).toBeNull();
      expect(status).toBe(204);
      expect(data).toBeNull();
      const raw = await rawRpc("tag_item", {
        headers: { Authorization: `Bearer ${serviceKey}` },
        body: JSON.stringify({ item_id: 2, tag: "blue" }),
      });
      expect(raw.status).toBe(204);
      expect(raw.headers.get("content-type")).toBeNull();
      expect(await raw.text()).toBe("");
    });

    it("calls a function with GET and query-string arguments ({ get: true }), read-only", async () => {
      const sum = await service.rpc("add_them", { a: 20, b: 22 }, { get: true });
      expect(sum.data).toBe(42);
      const inside = await service.rpc("whoami", {}, { get: true });
      expect(inside.data).toMatchObject({ method: "GET", read_only: "on" });
    });

    it("refuses GET for a volatile function with 405 PGRST101", async () => {
      const { error, status } = await service.rpc("tag_item", { item_id: 1, tag: "x" }, { get: true });
      expect(status).toBe(405);
      expect(error?.code).toBe("PGRST101");
    });

    it("answers HEAD without a body and counts with Prefer: count=exact", async () => {
      const { data, count, status, error } = await service.rpc(
        "list_items",
        {},
        { head: true, count: "exact" },
      );
      expect(error).toBeNull();
      expect(status).toBe(200);
      expect(data).toBeNull();
      expect(count).toBe(3);
    });

    it("lets a function set the response status and headers through response.status/headers", async () => {
      const response = await rawRpc("created_with_header", {
        headers: { Authorization: `Bearer ${serviceKey}` },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-item-count")).toBe("3");
      expect(await response.json()).toEqual({ created: true });
    });

    it("strips nulls when asked (Accept: ...;nulls=stripped)", async () => {
      const { data } = await service.rpc("item_with_nulls").stripNulls();
      expect(data).toEqual([{ id: 1 }]);
    });
  });

  describe("single object (Accept: application/vnd.pgrst.object+json)", () => {
    it("returns the one row as an object", async () => {
      const { data, error, status } = await service.rpc("list_items", { max_id: 1 }).single();
      expect(error).toBeNull();
      expect(status).toBe(200);
      expect(data).toEqual({ id: 1, name: "alpha" });
    });

    it("answers 406 PGRST116 when there is not exactly one row", async () => {
      const many = await service.rpc("list_items", { max_id: 3 }).single();
      expect(many.status).toBe(406);
      expect(many.error?.code).toBe("PGRST116");
      expect(many.error?.details).toBe("The result contains 3 rows");
      const none = await service.rpc("list_items", { max_id: 0 }).single();
      expect(none.status).toBe(406);
      expect(none.error?.details).toBe("The result contains 0 rows");
    });

    it("rolls back the function's writes when the single-object check fails", async () => {
      const refused = await service.rpc("add_items", { first_id: 50, n: 2 }).single();
      expect(refused.status).toBe(406);
      expect((await service.rpc("get_item", { item_id: 50 })).data).toEqual({ id: null, name: null });
      const accepted = await service.rpc("add_items", { first_id: 70, n: 1 }).single();
      expect(accepted.data).toEqual({ id: 70, name: "item 70" });
      expect((await service.rpc("get_item", { item_id: 70 })).data).toEqual({ id: 70, name: "item 70" });
    });
  });

  describe("argument matching", () => {
    it("picks the overload whose parameter names match the arguments", async () => {
      expect((await service.rpc("greet", { name: "ada" })).data).toBe("hello ada");
      expect((await service.rpc("greet", { name: "ada", greeting: "good day" })).data).toBe("good day ada");
    });

    it("answers 300 PGRST203 when the overloads differ only by type", async () => {
      const { error, status } = await service.rpc("pick", { x: "1" });
      expect(status).toBe(300);
      expect(error?.code).toBe("PGRST203");
    });

    it("passes the whole body to a function with a single unnamed jsonb parameter", async () => {
      const { data } = await service.rpc("echo_body", { anything: [1, { deep: true }] });
      expect(data).toEqual({ anything: [1, { deep: true }] });
    });

    it("passes repeated GET parameters to a variadic function", async () => {
      const response = await fetch(`${bridge.url}/rest/v1/rpc/greet_all?names=ada&names=grace`, {
        headers: { Authorization: `Bearer ${serviceKey}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toBe("ada & grace");
    });

    it("answers 404 PGRST202 for an unknown function or unknown argument names", async () => {
      const unknown = await service.rpc("no_such_function", { a: 1 });
      expect(unknown.status).toBe(404);
      expect(unknown.error).toMatchObject({
        code: "PGRST202",
        message: "Could not find the function public.no_such_function(a) in the schema cache",
      });
      const wrongArgs = await service.rpc("add_them", { a: 1, c: 2 });
      expect(wrongArgs.status).toBe(404);
      expect(wrongArgs.error?.code).toBe("PGRST202");
      expect(wrongArgs.error?.hint).toBe("Perhaps you meant to call the function public.add_them(a, b)");
    });
  });

  describe("errors: PostgREST's body and SQLSTATE-to-status table", () => {
    it.each([
      ["unique violation", 409, "23505", "add_item", { id: 1, name: "again" }],
      ["foreign key violation", 409, "23503", "tag_item", { item_id: 999, tag: "x" }],
      ["RAISE EXCEPTION (P0001)", 400, "P0001", "fail_with", { kind: "raise" }],
      ["custom status PT402", 402, "PT402", "fail_with", { kind: "payment_required" }],
      ["data exception (22012)", 400, "22012", "divide", { a: 1, b: 0 }],
      ["invalid input for the parameter type (22P02)", 400, "22P02", "add_them", { a: "one", b: 2 }],
      ["serialization failure (40001)", 500, "40001", "fail_with", { kind: "serialization" }],
      ["insufficient resources (53300)", 503, "53300", "fail_with", { kind: "resources" }],
      ["connection exception (08006)", 503, "08006", "fail_with", { kind: "connection" }],
      ["statement timeout (57014)", 500, "57014", "slow", { seconds: 2 }],
    ])("%s → %i %s", async (_name, status, code, fn, args) => {
      const result = await service.rpc(fn, args);
      expect(result.status).toBe(status);
      expect(result.error?.code).toBe(code);
      expect(result.data).toBeNull();
    });

    it("forwards message, details and hint from RAISE", async () => {
      const { error } = await service.rpc("fail_with", { kind: "raise" });
      expect(error).toMatchObject({
        code: "P0001",
        message: "balance too low",
        details: "balance is 3 units",
        hint: "top up first",
      });
    });

    it("rolls back the function's writes when it raises", async () => {
      const failed = await service.rpc("add_item_then_fail", { id: 60 });
      // The function ran (it raised), so its insert happened and was rolled back.
      expect(failed.status).toBe(400);
      expect(failed.error).toMatchObject({ code: "P0001", message: "changed my mind" });
      const { data } = await service.rpc("get_item", { item_id: 60 });
      expect(data).toEqual({ id: null, name: null }); // PostgREST's shape for a composite NULL
    });

    it("gives full control with RAISE SQLSTATE 'PGRST' (status, headers, body)", async () => {
      const response = await rawRpc("fail_with", {
        headers: { Authorization: `Bearer ${serviceKey}` },
        body: JSON.stringify({ kind: "pgrst" }),
      });
      expect(response.status).toBe(423);
      expect(response.headers.get("x-account-state")).toBe("frozen");
      expect(await response.json()).toEqual({
        code: "ACCT1",
        message: "account frozen",
        details: "since yesterday",
        hint: "contact support",
      });
      const malformed = await service.rpc("fail_with", { kind: "pgrst_malformed" });
      expect(malformed.status).toBe(500);
      expect(malformed.error?.code).toBe("PGRST121");
    });
  });

  describe("authentication and roles", () => {
    it("sets the role and request settings visible inside the function", async () => {
      const token = await sign({ role: "authenticated", sub: "user-42", tier: "pro" });
      const { data, error } = await clientFor(bridge.url, token).rpc("whoami");
      expect(error).toBeNull();
      expect(data).toMatchObject({
        current_user: "authenticated",
        claims: { role: "authenticated", sub: "user-42", tier: "pro" },
        method: "POST",
        path: "/rpc/whoami",
        statement_timeout: "300ms",
        read_only: "off",
      });
      expect(data.headers.authorization).toBe(`Bearer ${token}`);
      expect(data.headers.apikey).toBe(token);
    });

    it("uses the anon role, with claims {role: anon}, when no token is sent", async () => {
      const response = await rawRpc("whoami");
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ current_user: "anon", claims: { role: "anon" } });
    });

    it("blocks anon from service-only functions: 401 with code 42501", async () => {
      const anon = clientFor(bridge.url, await sign({ role: "anon" }));
      const { error, status } = await anon.rpc("health_check");
      expect(status).toBe(401);
      expect(error?.code).toBe("42501");
      const noToken = await rawRpc("add_them", { body: JSON.stringify({ a: 1, b: 1 }) });
      expect(noToken.status).toBe(401);
      expect(noToken.headers.get("www-authenticate")).toBe("Bearer");
    });

    it("answers 403 (not 401) to an authenticated role without the privilege", async () => {
      const member = clientFor(bridge.url, await sign({ role: "authenticated", sub: "u1" }));
      const denied = await member.rpc("health_check");
      expect(denied.status).toBe(403);
      expect(denied.error?.code).toBe("42501");
      expect((await member.rpc("members_only")).data).toBe("welcome");
    });

    it("refuses a role that the authenticator may not become", async () => {
      const { status, error } = await clientFor(bridge.url, await sign({ role: "postgres" })).rpc(
        "add_them",
        {
          a: 1,
          b: 1,
        },
      );
      expect(status).toBe(403);
      expect(error?.code).toBe("42501");
    });

    it("answers 401 PGRST301 to a JWT signed with another secret, expired, or malformed", async () => {
      const forged = await clientFor(bridge.url, await sign({ role: "service_role" }, "another-secret")).rpc(
        "health_check",
      );
      expect(forged.status).toBe(401);
      expect(forged.error).toMatchObject({ code: "PGRST301", message: "JWSError JWSInvalidSignature" });

      const expired = await clientFor(
        bridge.url,
        await new SignJWT({ role: "service_role" })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
          .sign(new TextEncoder().encode(jwtSecret)),
      ).rpc("health_check");
      expect(expired.status).toBe(401);
      expect(expired.error).toMatchObject({ code: "PGRST301", message: "JWT expired" });

      const garbage = await rawRpc("health_check", { headers: { Authorization: "Bearer not-a-jwt" } });
      expect(garbage.status).toBe(401);
      expect(garbage.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
      expect(((await garbage.json()) as { code: string }).code).toBe("PGRST301");
    });

    it("lets service_role call the readiness probe", async () => {
      const { data, error } = await service.rpc("health_check");
      expect(error).toBeNull();
      expect(data.ok).toBe(true);
      expect(data.now).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
      expect(Math.abs(Date.parse(data.now) - Date.now())).toBeLessThan(60_000);
    });
  });

  describe("bad input never crashes the bridge", () => {
    it("answers 400 PGRST102 to invalid JSON", async () => {
      const response = await rawRpc("add_them", {
        headers: { Authorization: `Bearer ${serviceKey}` },
        body: "{nope",
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe("PGRST102");
    });

    it("answers 413 to a body over the limit", async () => {
      const response = await rawRpc("echo_body", {
        headers: { Authorization: `Bearer ${serviceKey}` },
        body: JSON.stringify({ blob: "x".repeat(2 * 1024 * 1024) }),
      });
      expect(response.status).toBe(413);
    });

    it("answers 406 PGRST106 to another schema and 406 PGRST107 to an unsupported media type", async () => {
      const schema = await service.schema("private").rpc("add_them", { a: 1, b: 1 });
      expect(schema.status).toBe(406);
      expect(schema.error?.code).toBe("PGRST106");
      const csv = await rawRpc("list_items", {
        headers: { Authorization: `Bearer ${serviceKey}`, Accept: "text/csv" },
      });
      expect(csv.status).toBe(406);
      expect(((await csv.json()) as { code: string }).code).toBe("PGRST107");
    });

    it("answers 501 to table endpoints and 404 outside /rest/v1", async () => {
      const table = await service.from("items").select("*");
      expect(table.status).toBe(501);
      expect((await fetch(`${bridge.url}/elsewhere`)).status).toBe(404);
    });

    it("still serves after all of the above, and counts every request", async () => {
      const before = bridge.requestCount();
      const { data } = await service.rpc("add_them", { a: 2, b: 2 });
      expect(data).toBe(4);
      expect(bridge.requestCount()).toBe(before + 1);
    });
  });
});

describe("PostgREST bridge when the database goes down", () => {
  let cluster: PostgresCluster;
  let database: TestDatabase;
  let bridge: PostgrestBridge;
  let service: Client;

  beforeAll(async () => {
    // Our own throwaway cluster: the shared server must never be stopped by a test.
    cluster = await startPostgresCluster();
    database = await prepareDatabase(cluster);
    bridge = await startPostgrestBridge({ databaseUrl: database.url, jwtSecret });
    service = clientFor(bridge.url, await sign({ role: "service_role" }));
  });

  afterAll(async () => {
    await bridge?.close();
    await database?.drop().catch(() => {});
    await cluster?.destroy();
  });

  it("answers 503 PGRST000 quickly while it is down, then recovers when it is back", async () => {
    expect((await service.rpc("health_check")).data).toMatchObject({ ok: true });

    await cluster.stop();
    const started = Date.now();
    const down = await service.rpc("health_check");
    expect(down.status).toBe(503);
    expect(down.error?.code).toBe("PGRST000");
    expect(Date.now() - started).toBeLessThan(1500);

    await cluster.start();
    const back = await service.rpc("health_check");
    expect(back.error).toBeNull();
    expect(back.data).toMatchObject({ ok: true });
  });

  it("leaves no server behind once destroyed", async () => {
    const adminUrl = cluster.adminUrl;
    await bridge.close();
    await database.drop();
    await cluster.destroy();
    expect(await canConnect(adminUrl, 300)).toBe(false);
  });
});
