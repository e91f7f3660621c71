/**
 * The schema registry through the HTTP API, against real Postgres (migrations applied, through the
 * PostgREST bridge) and real Redis: publish, list, get with ETag/304, validate by `name` and
 * `name@n`, `@latest` moving after a publish, quotas, isolation between accounts, retirement, the
 * compatibility report and references between registered schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import { type AccessHarness, problemOf, startAccessHarness } from "../harness/access";

let h: AccessHarness;
let token: string;
let other: string;

beforeAll(async () => {
  h = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 1000, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
      MAX_BODY_BYTES: String(8 * 1024 * 1024),
    },
  });
  token = (await h.account("pro")).token;
  other = (await h.account("pro")).token;
});
afterAll(async () => {
  await h?.stop();
});

const call = (
  method: string,
  path: string,
  body?: unknown,
  as = token,
  env?: Env,
  headers: Record<string, string> = {},
) =>
  h.request(
    path,
    {
      method,
      headers: {
        Authorization: `Bearer ${as}`,
        ...(body !== undefined && { "Content-Type": "application/json" }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    },
    env,
  );
const validate = async (schemaId: string, data: unknown, as = token, env?: Env) => {
  const response = await call("POST", "/v1/validate", { schema_id: schemaId, data }, as, env);
  await h.settle();
  return response;
};

const orderV1 = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string" }, qty: { type: "integer", minimum: 1 } },
};
const orderV2 = { ...orderV1, required: ["id", "qty"] };

describe("publishing and reading", () => {
  it("publishes immutable versions, and the same content again stores nothing", async () => {
    const first = await call("PUT", "/v1/schemas/orders", orderV1);
    expect(first.status).toBe(201);
    expect(first.headers.get("Location")).toBe("/v1/schemas/orders/versions/1");
    const body = (await first.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      name: "orders",
      version: 1,
      latest_version: 1,
      created: true,
      compatibility: null,
    });
    expect(body.content_hash).toMatch(/^[0-9a-f]{64}$/);
    // The same schema with its keys in another order is the same content.
    const reordered = { properties: orderV1.properties, required: ["id"], type: "object" };
    const again = await call("PUT", "/v1/schemas/orders", reordered);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ version: 1, created: false });
  });

  it("lists names and answers GET with an ETag, 304 when it matches", async () => {
    const list = (await (await call("GET", "/v1/schemas")).json()) as {
      schemas: Array<Record<string, unknown>>;
    };
    expect(list.schemas.map((s) => [s.name, s.version])).toEqual([["orders", 1]]);
    const latest = await call("GET", "/v1/schemas/orders");
    expect(latest.status).toBe(200);
    const etag = latest.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(await latest.json()).toMatchObject({ name: "orders", version: 1, schema: orderV1 });
    const cached = await call("GET", "/v1/schemas/orders", undefined, token, undefined, {
      "If-None-Match": etag as string,
    });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe("");
    expect((await call("GET", "/v1/schemas/orders/versions/1")).status).toBe(200);
    expect(await problemOf(await call("GET", "/v1/schemas/orders/versions/9"))).toMatchObject({
      code: "SCHEMA_NOT_FOUND",
    });
  });

  it("answers the schema's warnings, and ?strict=true refuses a schema that has any", async () => {
    const typo = { type: "object", requried: ["id"] };
    const published = await call("PUT", "/v1/schemas/typo", typo);
    expect(published.status).toBe(201);
    const body = (await published.json()) as { warnings: Array<Record<string, unknown>> };
    expect(body.warnings).toEqual([
      expect.objectContaining({
        code: "unknown_keyword",
        schemaLocation: "/requried",
        suggestion: "required",
      }),
    ]);
    const strict = await call("PUT", "/v1/schemas/typo-strict?strict=true", typo);
    expect(strict.status).toBe(422);
    expect(await problemOf(strict)).toMatchObject({ code: "SCHEMA_INVALID", schemaLocation: "/requried" });
    expect((await call("GET", "/v1/schemas/typo-strict")).status).toBe(404);
    expect((await call("DELETE", "/v1/schemas/typo")).status).toBe(200);
  });

  it("refuses schemas that are not valid, and names that are not slugs", async () => {
    const invalid = await call("PUT", "/v1/schemas/broken", { type: "strng" });
    expect(invalid.status).toBe(422);
    expect(await problemOf(invalid)).toMatchObject({ code: "SCHEMA_INVALID" });
    expect((await call("PUT", "/v1/schemas/Not_A_Slug", {})).status).toBe(400);
    expect((await call("GET", "/v1/schemas/broken")).status).toBe(404);
  });
});

describe("validating by schema_id", () => {
  it("validates by name (latest) and by name@version, billed one unit each", async () => {
    const byName = await validate("orders", { id: "o1" });
    expect(byName.status).toBe(200);
    expect(await byName.json()).toMatchObject({ valid: true, units: 1 });
    const pinned = await validate("orders@1", { qty: 0 });
    expect(pinned.status).toBe(200);
    const verdict = (await pinned.json()) as {
      valid: boolean;
      errors: Array<{ absoluteKeywordLocation: string }>;
    };
    expect(verdict.valid).toBe(false);
    expect(
      verdict.errors.some((e) => e.absoluteKeywordLocation.startsWith("urn:schema-meter:schema:orders@1#")),
    ).toBe(true);
    expect(await problemOf(await validate("nothing", {}))).toMatchObject({ code: "SCHEMA_NOT_FOUND" });
    expect(await problemOf(await validate("orders@7", {}))).toMatchObject({ code: "SCHEMA_NOT_FOUND" });
    const both = await call("POST", "/v1/validate", { schema_id: "orders", schema: {}, data: 1 });
    expect(both.status).toBe(400);
  });

  it("a new version reports its breaking changes; ?require=compatible refuses it", async () => {
    const refused = await call("PUT", "/v1/schemas/orders?require=compatible", orderV2);
    expect(refused.status).toBe(409);
    const problem = await problemOf(refused);
    expect(problem).toMatchObject({ code: "SCHEMA_INCOMPATIBLE" });
    expect(
      (problem.compatibility as { breaking: Array<{ kind: string }> }).breaking.map((c) => c.kind),
    ).toEqual(["required_added"]);
    expect((await call("GET", "/v1/schemas/orders")).headers.get("ETag")).not.toBeNull();
    expect(((await (await call("GET", "/v1/schemas/orders")).json()) as { version: number }).version).toBe(1);
  });

  it("the compatibility report names each kind of change through the API", async () => {
    const v1 = {
      type: "object",
      additionalProperties: false,
      properties: {
        id: { type: ["string", "integer"] },
        status: { enum: ["open", "paid", "void"] },
        qty: { type: "integer", minimum: 1 },
        code: { type: "string" },
        note: { type: "string" },
        tags: { type: "array", items: { type: "string" } },
      },
    };
    expect((await call("PUT", "/v1/schemas/kinds", v1)).status).toBe(201);
    const v2 = {
      type: "object",
      additionalProperties: false,
      required: ["id"],
      properties: {
        id: { type: "string" },
        status: { enum: ["open", "paid"] },
        qty: { type: "integer", minimum: 5 },
        code: { type: "string", pattern: "^[A-Z]{3}$" },
        tags: { type: "array", uniqueItems: true, items: { type: "string" } },
        extra: { type: "boolean" },
      },
    };
    const published = await call("PUT", "/v1/schemas/kinds", v2);
    expect(published.status).toBe(201);
    const { compatibility } = (await published.json()) as {
      compatibility: {
        compatible: boolean;
        breaking: Array<{ kind: string; location: string }>;
        widening: Array<{ kind: string; location: string }>;
      };
    };
    expect(compatibility.compatible).toBe(false);
    expect(compatibility.breaking.map((c) => `${c.kind} ${c.location}`).sort()).toEqual([
      "bound_tightened /properties/qty/minimum",
      "enum_narrowed /properties/status/enum",
      "pattern_changed /properties/code/pattern",
      "property_removed /properties/note",
      "required_added /required",
      "type_narrowed /properties/id/type",
      "unique_items_added /properties/tags/uniqueItems",
    ]);
    expect(compatibility.widening.map((c) => `${c.kind} ${c.location}`)).toEqual([
      "property_added /properties/extra",
    ]);
    expect((await call("DELETE", "/v1/schemas/kinds")).status).toBe(200);
  });

  it("@latest moves within SCHEMA_LATEST_TTL_SECONDS on another isolate, at once on the publishing one", async () => {
    // Another isolate: its own services (a configuration of its own), trusting a pointer for 1 s.
    const elsewhere: Env = { ...h.env, SCHEMA_LATEST_TTL_SECONDS: "1" };
    expect(await (await validate("orders", { id: "o1" }, token, elsewhere)).json()).toMatchObject({
      valid: true,
    });
    const published = await call("PUT", "/v1/schemas/orders", orderV2);
    expect(published.status).toBe(201);
    expect(await published.json()).toMatchObject({
      version: 2,
      compatibility: { compatible: false, breaking: [{ kind: "required_added", location: "/required" }] },
    });
    // The publishing isolate sees version 2 at once; the other one still has version 1 cached.
    expect(await (await validate("orders", { id: "o1" })).json()).toMatchObject({ valid: false });
    expect(await (await validate("orders", { id: "o1" }, token, elsewhere)).json()).toMatchObject({
      valid: true,
    });
    await new Promise((elapsed) => setTimeout(elapsed, 1100));
    expect(await (await validate("orders", { id: "o1" }, token, elsewhere)).json()).toMatchObject({
      valid: false,
    });
    expect(await (await validate("orders@1", { id: "o1" }, token, elsewhere)).json()).toMatchObject({
      valid: true,
    });
  });

  it("registered schemas reference each other by urn:schema-meter:schema:<name>@<version>", async () => {
    expect((await call("PUT", "/v1/schemas/address", { type: "object", required: ["city"] })).status).toBe(
      201,
    );
    const customer = { properties: { address: { $ref: "urn:schema-meter:schema:address@1" } } };
    expect((await call("PUT", "/v1/schemas/customer", customer)).status).toBe(201);
    const verdict = (await (await validate("customer", { address: {} })).json()) as { valid: boolean };
    expect(verdict.valid).toBe(false);
    expect(await (await validate("customer", { address: { city: "Lyon" } })).json()).toMatchObject({
      valid: true,
    });
    const unpinned = await call("PUT", "/v1/schemas/loose", { $ref: "urn:schema-meter:schema:address" });
    expect(unpinned.status).toBe(422);
    expect(await problemOf(unpinned)).toMatchObject({ code: "SCHEMA_UNRESOLVABLE" });
    const missing = await call("PUT", "/v1/schemas/dangling", { $ref: "urn:schema-meter:schema:nowhere@1" });
    const problem = await problemOf(missing);
    expect(problem).toMatchObject({ code: "SCHEMA_UNRESOLVABLE", ref: "urn:schema-meter:schema:nowhere@1" });
  });
});

describe("accounts, quotas and retirement", () => {
  it("never shows one account's schemas to another", async () => {
    expect(await (await call("GET", "/v1/schemas", undefined, other)).json()).toEqual({ schemas: [] });
    expect((await call("GET", "/v1/schemas/orders", undefined, other)).status).toBe(404);
    expect(await problemOf(await validate("orders", { id: "x" }, other))).toMatchObject({
      code: "SCHEMA_NOT_FOUND",
    });
    // The other account may use the same name for a schema of its own.
    expect((await call("PUT", "/v1/schemas/orders", { type: "string" }, other)).status).toBe(201);
    expect(await (await validate("orders", "text", other)).json()).toMatchObject({ valid: true });
    expect(await (await validate("orders", { id: "o1", qty: 1 })).json()).toMatchObject({ valid: true });
  });

  it("holds each tier to its number of schemas (409) and bytes stored (413)", async () => {
    const tight: Env = {
      ...h.env,
      SCHEMA_REGISTRY_QUOTAS: JSON.stringify({
        pro: { schemas: 2, bytes: 2000 },
        free: { schemas: 1, bytes: 1000 },
      }),
    };
    const fresh = (await h.account("pro")).token;
    expect((await call("PUT", "/v1/schemas/a", { type: "string" }, fresh, tight)).status).toBe(201);
    expect((await call("PUT", "/v1/schemas/b", { type: "number" }, fresh, tight)).status).toBe(201);
    const third = await call("PUT", "/v1/schemas/c", { type: "null" }, fresh, tight);
    expect(third.status).toBe(409);
    expect(await problemOf(third)).toMatchObject({ code: "SCHEMA_QUOTA_EXCEEDED", limit: 2, used: 2 });
    const big = await call(
      "PUT",
      "/v1/schemas/a",
      { type: "string", description: "x".repeat(3000) },
      fresh,
      tight,
    );
    expect(big.status).toBe(413);
    expect(await problemOf(big)).toMatchObject({ code: "SCHEMA_STORAGE_EXCEEDED", limit: 2000 });
    // Retiring a name frees its place (not its bytes).
    expect((await call("DELETE", "/v1/schemas/b", undefined, fresh, tight)).status).toBe(200);
    expect((await call("PUT", "/v1/schemas/c", { type: "null" }, fresh, tight)).status).toBe(201);
  });

  it("a retired name answers 410 to validation and to publishing, and stays readable", async () => {
    const retired = await call("DELETE", "/v1/schemas/address");
    expect(retired.status).toBe(200);
    expect(await retired.json()).toMatchObject({ name: "address", latest_version: 1 });
    expect(await problemOf(await validate("address", {}))).toMatchObject({ code: "SCHEMA_RETIRED" });
    expect((await validate("address@1", {})).status).toBe(410);
    expect((await call("PUT", "/v1/schemas/address", { type: "object" })).status).toBe(410);
    const readable = await call("GET", "/v1/schemas/address");
    expect(readable.status).toBe(200);
    expect(((await readable.json()) as { retired_at: string | null }).retired_at).not.toBeNull();
    expect((await call("DELETE", "/v1/schemas/nothing-here")).status).toBe(404);
  });

  it("shows operators each account's use, never the schemas, behind ADMIN_TOKEN", async () => {
    expect((await h.request("/admin/schemas")).status).toBe(401);
    const response = await h.request("/admin/schemas", {
      headers: { Authorization: `Bearer ${h.stack.secrets.adminToken}` },
    });
    expect(response.status).toBe(200);
    const { accounts } = (await response.json()) as { accounts: Array<Record<string, number>> };
    expect(accounts.length).toBeGreaterThanOrEqual(2);
    expect(accounts[0]).toMatchObject({ active_schemas: expect.any(Number), bytes: expect.any(Number) });
    expect(JSON.stringify(accounts)).not.toContain("properties");
  });

  it("publishes and validates by a multi-MB schema", async () => {
    const properties = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [
        `field_${i}`,
        { type: "string", maxLength: 64, description: "d".repeat(640) },
      ]),
    );
    // 2.1 MB, with a compiled weight (about 27 MB) that the default 32 MiB cache keeps.
    const schema = { type: "object", properties, required: ["field_2999"] };
    const bytes = JSON.stringify(schema).length;
    expect(bytes).toBeGreaterThan(2_000_000);
    const published = await call("PUT", "/v1/schemas/huge", schema);
    expect(published.status).toBe(201);
    expect(((await published.json()) as { bytes: number }).bytes).toBe(bytes);
    expect(await (await validate("huge", { field_2999: "x" })).json()).toMatchObject({ valid: true });
    expect(await (await validate("huge", { field_2999: "x", field_1: 3 })).json()).toMatchObject({
      valid: false,
    });
  });
});
