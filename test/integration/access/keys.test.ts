/**
 * Keys self-service (GET/POST /v1/keys, DELETE /v1/keys/{id}, POST /v1/keys/{id}/roll) through the
 * app factory against real Redis and Postgres: secrets shown once, revocation and roll effective on
 * the next call (the roll's overlap, then expiry), the last key kept, the key cap, not billed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, problemOf, startAccessHarness, usageStream } from "../harness/access";

let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 1000, windowSeconds: 10 },
      }),
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

interface Key {
  id: string;
  prefix: string;
  name: string;
  state: string;
  expires_at: string | null;
  revoked_at: string | null;
  replaced_by: string | null;
}

const call = (credential: string, method: string, path: string, body?: unknown) =>
  h.request(path, {
    method,
    headers: {
      Authorization: `Bearer ${credential}`,
      ...(body !== undefined && { "Content-Type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

const validate = (credential: string) =>
  call(credential, "POST", "/v1/validate", { data: { id: 1 }, schema: { type: "object" } });

async function createKey(credential: string, body: unknown = { name: "ci" }) {
  const response = await call(credential, "POST", "/v1/keys", body);
  expect(response.status, await response.clone().text()).toBe(201);
  return { response, ...((await response.json()) as { key: Key; secret: string }) };
}

describe("GET and POST /v1/keys", () => {
  it("lists the account's keys without secrets; a new key's secret is shown once and works at once", async () => {
    const { apiKey, id } = await h.account("pro");
    const listed = await call(apiKey, "GET", "/v1/keys");
    expect(listed.status).toBe(200);
    const before = (await listed.json()) as { keys: Key[] };
    expect(before.keys).toEqual([
      expect.objectContaining({
        prefix: apiKey.slice(0, 13),
        name: "default",
        state: "active",
        expires_at: null,
      }),
    ]);
    expect(JSON.stringify(before)).not.toContain(apiKey);

    const { response, key, secret } = await createKey(apiKey, { name: "ci" });
    expect(response.headers.get("Location")).toBe(`/v1/keys/${key.id}`);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(secret.startsWith(`${key.prefix}_`)).toBe(true);
    expect(key).toMatchObject({ name: "ci", state: "active" });
    const located = await call(apiKey, "GET", response.headers.get("Location")!);
    expect(located.status).toBe(200);
    expect(await located.json()).toEqual({ key });

    // Written to Redis at creation: its first call is one Redis request, no Postgres.
    h.stack.redisBridge.resetCount();
    const postgresBefore = h.stack.postgrest.requestCount();
    expect((await validate(secret)).status).toBe(200);
    expect(h.stack.redisBridge.requestCount()).toBe(1);
    expect(h.stack.postgrest.requestCount()).toBe(postgresBefore);

    const after = (await (await call(secret, "GET", "/v1/keys")).json()) as { keys: Key[] };
    expect(after.keys.map((k) => k.name)).toEqual(["ci", "default"]);
    expect(JSON.stringify(after)).not.toContain(secret);

    // Managing keys is rate limited, never billed: only the validation above reached the stream.
    await h.settle();
    const records = (await usageStream(h)).filter((entry) => entry.subject === id);
    expect(records.map((entry) => entry.kind)).toEqual(["admit"]);
  });

  it("refuses a past expiry (400), a body that is not JSON (415), and past 20 active keys (409)", async () => {
    const { apiKey } = await h.account("pro");
    const past = await call(apiKey, "POST", "/v1/keys", { expires_at: "2020-01-01T00:00:00Z" });
    expect(await problemOf(past)).toMatchObject({
      status: 400,
      errors: [{ pointer: "/expires_at", detail: "must be in the future" }],
    });
    const notJson = await h.request("/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "text/plain" },
      body: "name=ci",
    });
    expect(notJson.status).toBe(415);
    for (let i = 0; i < 19; i++) await createKey(apiKey, { name: `k${i}` });
    const over = await call(apiKey, "POST", "/v1/keys", { name: "one too many" });
    expect(await problemOf(over)).toMatchObject({ status: 409, code: "API_KEY_LIMIT_REACHED" });
  });

  it("a key with an expiry works until then, and mints no token that outlives it", async () => {
    const { apiKey } = await h.account("pro");
    const expiresAt = new Date(Date.now() + 120_000).toISOString();
    const { secret } = await createKey(apiKey, { name: "short", expires_at: expiresAt });
    expect((await validate(secret)).status).toBe(200);
    const minted = await h.request("/v1/token", {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}` },
    });
    const { expires_in } = (await minted.json()) as { expires_in: number };
    expect(expires_in).toBeLessThanOrEqual(120);
  });
});

describe("DELETE /v1/keys/{id}", () => {
  it("revokes at once (the key and its tokens), is idempotent, and keeps the last way in", async () => {
    const { apiKey } = await h.account("pro");
    const { key, secret } = await createKey(apiKey);
    const minted = await h.request("/v1/token", {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}` },
    });
    const { token } = (await minted.json()) as { token: string };
    expect((await validate(secret)).status).toBe(200);
    expect((await validate(token)).status).toBe(200);

    const revoked = await call(apiKey, "DELETE", `/v1/keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { key: Key }).key).toMatchObject({ id: key.id, state: "revoked" });
    expect(await problemOf(await validate(secret))).toMatchObject({ status: 401, code: "API_KEY_INVALID" });
    expect(await problemOf(await validate(token))).toMatchObject({ status: 401, code: "TOKEN_REVOKED" });
    expect((await call(apiKey, "DELETE", `/v1/keys/${key.prefix}`)).status).toBe(200);

    const last = await call(apiKey, "DELETE", `/v1/keys/${apiKey.slice(0, 13)}`);
    expect(await problemOf(last)).toMatchObject({
      status: 409,
      code: "API_KEY_LAST_ACTIVE",
      detail: expect.stringContaining("POST /v1/keys"),
    });
    expect((await validate(apiKey)).status).toBe(200);
  });

  it("404 for another account's key or an unknown one, 400 for a malformed id", async () => {
    const mine = await h.account("pro");
    const theirs = await h.account("pro");
    const { key } = await createKey(theirs.apiKey);
    expect(await problemOf(await call(mine.apiKey, "DELETE", `/v1/keys/${key.id}`))).toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
    expect((await validate(theirs.apiKey)).status).toBe(200);
    expect((await call(mine.apiKey, "DELETE", "/v1/keys/sm_nosuchkey0")).status).toBe(404);
    expect((await call(mine.apiKey, "DELETE", "/v1/keys/not%20an%20id")).status).toBe(400);
  });
});

describe("POST /v1/keys/{id}/roll", () => {
  it("with no overlap: the new secret works, the old key and its tokens are refused at once", async () => {
    const { apiKey, token } = await h.account("pro");
    const prefix = apiKey.slice(0, 13);
    const response = await h.request(`/v1/keys/${prefix}/roll`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const rolled = (await response.json()) as { key: Key; secret: string; old: Key };
    expect(response.headers.get("Location")).toBe(`/v1/keys/${rolled.key.id}`);
    expect(rolled.old).toMatchObject({ prefix, state: "revoked", replaced_by: rolled.key.id });
    expect(rolled.key).toMatchObject({ name: "default", state: "active" });

    expect(await problemOf(await validate(apiKey))).toMatchObject({ code: "API_KEY_INVALID" });
    expect(await problemOf(await validate(token))).toMatchObject({ code: "TOKEN_REVOKED" });
    expect((await validate(rolled.secret)).status).toBe(200);
    // The new key is now the account's way in.
    expect((await call(rolled.secret, "DELETE", `/v1/keys/${rolled.key.id}`)).status).toBe(409);
  });

  it("with an overlap: both keys work until it ends, then the old one is refused as expired", async () => {
    const { apiKey } = await h.account("pro");
    const started = Date.now();
    const response = await call(apiKey, "POST", `/v1/keys/${apiKey.slice(0, 13)}/roll`, {
      overlap_seconds: 2,
    });
    expect(response.status).toBe(201);
    const rolled = (await response.json()) as { key: Key; secret: string; old: Key };
    expect(rolled.old.state).toBe("active");
    expect(Date.parse(rolled.old.expires_at ?? "")).toBeGreaterThan(started);
    expect((await validate(apiKey)).status).toBe(200);
    expect((await validate(rolled.secret)).status).toBe(200);

    await new Promise((done) =>
      setTimeout(done, Math.max(0, Date.parse(rolled.old.expires_at!) - Date.now() + 50)),
    );
    expect(await problemOf(await validate(apiKey))).toMatchObject({ status: 401, code: "API_KEY_EXPIRED" });
    expect((await validate(rolled.secret)).status).toBe(200);
    // A rolled (expired) key cannot be rolled again.
    expect((await call(rolled.secret, "POST", `/v1/keys/${rolled.old.id}/roll`, {})).status).toBe(404);
  });

  it("refuses an overlap beyond 7 days and a body that is not JSON", async () => {
    const { apiKey } = await h.account("pro");
    const path = `/v1/keys/${apiKey.slice(0, 13)}/roll`;
    expect(await problemOf(await call(apiKey, "POST", path, { overlap_seconds: 8 * 86_400 }))).toMatchObject({
      status: 400,
      errors: [{ pointer: "/overlap_seconds" }],
    });
    const broken = await h.request(path, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
    expect((await validate(apiKey)).status).toBe(200);
  });
});

describe("OpenAPI", () => {
  it("declares the key routes, each accepting the API key or a token", async () => {
    const document = (await (await h.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(Object.keys(document.paths["/v1/keys"] ?? {})).toEqual(expect.arrayContaining(["get", "post"]));
    expect(document.paths["/v1/keys/{id}"]?.delete?.security).toEqual([{ apiKey: [] }, { bearerToken: [] }]);
    expect(document.paths["/v1/keys/{id}/roll"]?.post).toBeDefined();
    expect(document.paths["/v1/validate"]?.post?.security).toEqual([{ apiKey: [] }, { bearerToken: [] }]);
  });
});
