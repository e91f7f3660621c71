/**
 * Calls made with the API key itself (no token), through the app factory against real Redis and
 * Postgres: one Redis request per call (counted at the Upstash bridge), the Postgres fallback on a
 * miss that then fills Redis, revocation and expiry on the very next call, the rate window shared
 * with the account's tokens, billing's customer applied at once, and the billing invariant (a
 * refused or failed call is never billed; Redis down is served from Postgres, billed once).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../../src/access/accounts";
import { hashApiKey } from "../../../src/access/api-keys";
import { type AccessHarness, plain, problemOf, startAccessHarness, usageStream } from "../harness/access";

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

const schema = { type: "object", required: ["id"], properties: { id: { type: "string" } } };

function validate(credential: string, body: unknown = { data: { id: "a" }, schema }, ip = "192.0.2.10") {
  return h.request("/v1/validate", {
    method: "POST",
    headers: {
      Authorization: `Bearer ${credential}`,
      "Content-Type": "application/json",
      "CF-Connecting-IP": ip,
    },
    body: JSON.stringify(body),
  });
}

const entryKey = async (apiKey: string) => `sm:apikey:${await hashApiKey(apiKey)}`;

describe("Authorization: Bearer <api key> on /v1/validate", () => {
  it("works from the first call after sign-up, with exactly one Redis request per call", async () => {
    const { apiKey, id } = await h.account("pro");
    h.stack.redisBridge.resetCount();
    const postgresBefore = h.stack.postgrest.requestCount();
    for (let i = 0; i < 5; i++) {
      const response = await validate(apiKey);
      expect(response.status, await response.clone().text()).toBe(200);
      expect(await response.json()).toMatchObject({ valid: true });
      expect(response.headers.get("RateLimit-Policy")).toBe('"pro";q=1000;w=10');
    }
    expect(h.stack.redisBridge.requestCount()).toBe(5);
    expect(
      h.stack.redisBridge
        .commandLog()
        .slice(-5)
        .every((command) => command[0]?.toUpperCase() === "EVALSHA"),
    ).toBe(true);
    // No Postgres on the hot path: the key was resolved in Redis.
    expect(h.stack.postgrest.requestCount()).toBe(postgresBefore);
    await h.settle();
    const admitted = (await usageStream(h)).filter((entry) => entry.subject === id);
    expect(admitted).toHaveLength(5);
    expect(admitted.every((entry) => entry.kind === "admit" && entry.tier === "pro")).toBe(true);
  });

  it("the key never reaches Redis in clear: commands and key names carry only its hash", async () => {
    const { apiKey } = await h.account();
    expect((await validate(apiKey)).status).toBe(200);
    expect(JSON.stringify(h.stack.redisBridge.commandLog())).not.toContain(apiKey);
    const keys = plain(await h.redisCommand("KEYS", "sm:apikey:*")) as string[];
    expect(keys).toContain(await entryKey(apiKey));
    expect(JSON.stringify(keys)).not.toContain(apiKey);
  });

  it("on a miss asks Postgres once, fills Redis, and the next call is one Redis request again", async () => {
    const { apiKey, id } = await h.account("pro");
    await h.redisCommand("DEL", await entryKey(apiKey));
    const postgresBefore = h.stack.postgrest.requestCount();
    expect((await validate(apiKey)).status).toBe(200);
    expect(h.stack.postgrest.requestCount()).toBe(postgresBefore + 1);
    const entry = plain(await h.redisCommand("HGETALL", await entryKey(apiKey))) as string[];
    expect(entry).toEqual(expect.arrayContaining(["state", "active", "subject", id, "tier", "pro"]));
    const ttl = plain(await h.redisCommand("TTL", await entryKey(apiKey))) as number;
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);

    h.stack.redisBridge.resetCount();
    expect((await validate(apiKey)).status).toBe(200);
    expect(h.stack.redisBridge.requestCount()).toBe(1);
    expect(h.stack.postgrest.requestCount()).toBe(postgresBefore + 1);
  });

  it("revocation takes effect on the very next call, for the key and its tokens", async () => {
    const { apiKey, token } = await h.account("pro");
    expect((await validate(apiKey)).status).toBe(200);
    expect((await validate(token)).status).toBe(200);
    await revokeApiKey({ db: h.db, redis: h.redis }, apiKey.slice(0, 13));

    const byKey = await validate(apiKey);
    expect(byKey.status).toBe(401);
    expect(byKey.headers.get("WWW-Authenticate")).toMatch(/error="invalid_token"/);
    expect(await problemOf(byKey)).toMatchObject({
      code: "API_KEY_INVALID",
      detail: expect.stringContaining("revoked"),
    });
    expect(await problemOf(await validate(token))).toMatchObject({ code: "TOKEN_REVOKED" });

    // Still refused once Redis forgot the key: Postgres says revoked, and that is cached.
    await h.redisCommand("DEL", await entryKey(apiKey));
    expect(await problemOf(await validate(apiKey))).toMatchObject({ code: "API_KEY_INVALID" });
    const postgresBefore = h.stack.postgrest.requestCount();
    expect(await problemOf(await validate(apiKey))).toMatchObject({ code: "API_KEY_INVALID" });
    expect(h.stack.postgrest.requestCount()).toBe(postgresBefore);
  });

  it("an expired key is refused with API_KEY_EXPIRED, saying when", async () => {
    const { apiKey } = await h.account();
    const expiredAt = new Date(Date.now() - 1000).toISOString();
    await h.sql.query("update public.api_keys set expires_at = $1 where key_hash = $2", [
      expiredAt,
      await hashApiKey(apiKey),
    ]);
    await h.redisCommand("DEL", await entryKey(apiKey));
    const response = await validate(apiKey);
    expect(response.status).toBe(401);
    expect(await problemOf(response)).toMatchObject({
      code: "API_KEY_EXPIRED",
      detail: expect.stringContaining(expiredAt),
    });
    // Refused from Redis the second time.
    expect(await problemOf(await validate(apiKey))).toMatchObject({ code: "API_KEY_EXPIRED" });
  });

  it("unknown and malformed keys get a message that says what to send; unknown ones are cached", async () => {
    const unknown = `sm_zzzzzzzzzz_${"B".repeat(43)}`;
    const first = await validate(unknown);
    expect(await problemOf(first)).toMatchObject({ status: 401, code: "API_KEY_INVALID" });
    const postgresBefore = h.stack.postgrest.requestCount();
    expect(await problemOf(await validate(unknown))).toMatchObject({ code: "API_KEY_INVALID" });
    expect(h.stack.postgrest.requestCount()).toBe(postgresBefore);

    expect(await problemOf(await validate("sm_short"))).toMatchObject({
      status: 401,
      code: "API_KEY_INVALID",
      detail: expect.stringContaining("sm_<10 letters or digits>_<43 characters>"),
    });
    const { apiKey } = await h.account();
    const withoutScheme = await h.request("/v1/validate", {
      method: "POST",
      headers: { Authorization: apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ data: 1, schema: true }),
    });
    expect(await problemOf(withoutScheme)).toMatchObject({
      status: 401,
      code: "AUTH_REQUIRED",
      detail: expect.stringContaining('Put "Bearer " before the credential'),
    });
  });

  it("limits Postgres lookups of keys Redis does not know per client network (TOKEN_RATE_LIMIT)", async () => {
    const env = { ...h.env, TOKEN_RATE_LIMIT: JSON.stringify({ limit: 2, windowSeconds: 60 }) };
    const forged = (n: number) => `sm_forged${String(n).padStart(3, "0")}x_${"C".repeat(43)}`;
    const call = (key: string) =>
      h.request(
        "/v1/validate",
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${key}`,
            "Content-Type": "application/json",
            "CF-Connecting-IP": "198.51.100.77",
          },
          body: JSON.stringify({ data: 1, schema: true }),
        },
        env,
      );
    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await call(forged(n))).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it("shares the account's rate window with its tokens", async () => {
    const { apiKey, token } = await h.account();
    const statuses = [];
    for (const credential of [apiKey, token, apiKey, token, apiKey, token]) {
      statuses.push((await validate(credential)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it("bills the Stripe customer billing linked, from the next call (the key's entry predates it)", async () => {
    const { apiKey, id } = await h.account("pro");
    await h.sql.query("update public.accounts set stripe_customer_id = $1 where id = $2", [
      `cus_k${id.slice(0, 8)}`,
      id,
    ]);
    const { rows } = await h.sql.query("select public.billing_edge_state($1) as edge", [id]);
    const edge = rows[0].edge as { tier: string; customer: string; version: number };
    expect(edge.customer).toBe(`cus_k${id.slice(0, 8)}`);
    await h.redis.applyEdgeState(
      { subject: id, tier: edge.tier, customer: edge.customer, deny: false, version: edge.version },
      3660,
    );
    expect((await validate(apiKey)).status).toBe(200);
    await h.settle();
    const records = (await usageStream(h)).filter((entry) => entry.subject === id);
    expect(records.at(-1)).toMatchObject({ kind: "admit", stripe_customer_id: `cus_k${id.slice(0, 8)}` });
  });

  it("a refused call is never billed: a 422 made with a key is compensated under the same customer", async () => {
    const { apiKey, id } = await h.account("pro");
    const response = await validate(apiKey, { data: 1, schema: { type: "nonsense" } });
    expect(response.status).toBe(422);
    await h.settle();
    const records = (await usageStream(h)).filter((entry) => entry.subject === id);
    expect(records.map((entry) => [entry.kind, entry.units])).toEqual([
      ["admit", "1"],
      ["compensate", "-1"],
    ]);
    expect(records[0]?.id).toBe(records[1]?.id);
    expect(records[0]?.stripe_customer_id).toBe(records[1]?.stripe_customer_id);
  });
});

describe("the key's entry in Redis (put-api-key)", () => {
  const entry = (keyHash: string, state: "active" | "revoked") => ({
    keyHash,
    state,
    subject: "acc_x",
    apiKeyId: `key_${keyHash.slice(0, 6)}`,
    tier: "free",
    stripeCustomerId: null,
    expiresAtMs: null,
    ttlSeconds: 60,
    denyTtlSeconds: 60,
  });

  it("a fill never overwrites an entry, and nothing brings a revoked key back", async () => {
    const keyHash = "a".repeat(64);
    expect(await h.redis.putApiKeyEntry(entry(keyHash, "revoked"), "set")).toBe(true);
    // A fill that read Postgres before the revocation committed, arriving after it.
    expect(await h.redis.putApiKeyEntry(entry(keyHash, "active"), "fill")).toBe(false);
    // A roll's write of the old key's expiry racing its revocation.
    expect(await h.redis.putApiKeyEntry(entry(keyHash, "active"), "set")).toBe(false);
    expect(plain(await h.redisCommand("HGET", `sm:apikey:${keyHash}`, "state"))).toBe("revoked");
    expect(plain(await h.redisCommand("EXISTS", `sm:deny:key:key_${keyHash.slice(0, 6)}`))).toBe(1);

    const other = "b".repeat(64);
    expect(await h.redis.putApiKeyEntry(entry(other, "active"), "fill")).toBe(true);
    expect(await h.redis.putApiKeyEntry(entry(other, "active"), "fill")).toBe(false);
    expect(await h.redis.putApiKeyEntry(entry(other, "revoked"), "set")).toBe(true);
    const ttl = plain(await h.redisCommand("TTL", `sm:apikey:${other}`)) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it("an entry naming a tier no longer configured gets the strictest configured one", async () => {
    const { apiKey } = await h.account();
    await h.redisCommand("HSET", await entryKey(apiKey), "tier", "legacy");
    const response = await validate(apiKey);
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit-Policy")).toBe('"free";q=5;w=10');
  });
});

describe("Redis unreachable, with a key", () => {
  it("a paying key is served from Postgres and recorded there once; a free key gets 503", async () => {
    const pro = await h.account("pro");
    const free = await h.account();
    await h.stack.redis.stop();
    let proResponse: Response;
    let freeResponse: Response;
    try {
      proResponse = await validate(pro.apiKey);
      freeResponse = await validate(free.apiKey);
      await h.settle();
    } finally {
      await h.stack.redis.start();
    }
    expect(proResponse.status, await proResponse.clone().text()).toBe(200);
    expect(freeResponse.status).toBe(503);
    expect(await problemOf(freeResponse)).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE" });
    const { rows } = await h.sql.query(
      "select kind, units, tier from public.pending_usage where subject = $1 order by kind",
      [pro.id],
    );
    expect(rows).toEqual([{ kind: "admit", units: 1, tier: "pro" }]);
  });
});
