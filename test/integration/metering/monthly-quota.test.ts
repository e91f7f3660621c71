/**
 * Monthly quotas and spend caps (issue 16 item 5), through the API against the real local stack
 * (own redis-server and Postgres behind the bridges): the tier's quota and the account's own cap
 * refuse with 429 QUOTA_EXCEEDED and the reset time, before anything is written (not billed, not
 * counted in the window); a batch that would cross is refused whole; the cap is set and removed
 * with PUT/DELETE /v1/account/spend-cap (paying accounts only) and its Redis mirror is refilled at
 * token exchange and key entry fill; /v1/account shows quota, cap, used and remaining; and an
 * admitted call is still one Redis request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { windowUnits } from "../../support/raw-redis";
import { type AccessHarness, plain, problemOf, startAccessHarness, usageStream } from "../harness/access";
import { billedUnits } from "../harness/billed-units";

const QUOTA = 3;
const TIERS = JSON.stringify({
  free: { limit: 50, windowSeconds: 10, monthlyQuota: QUOTA },
  pro: { limit: 1000, windowSeconds: 10 },
});
let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({ env: { RATE_LIMIT_TIERS: TIERS } });
});
afterAll(async () => {
  await h?.stop();
});

const document = { schema: { type: "integer" }, data: 1 };
const auth = (credential: string) => ({ Authorization: `Bearer ${credential}` });

const validate = (credential: string) =>
  h.request("/v1/validate", {
    method: "POST",
    headers: { ...auth(credential), "Content-Type": "application/json" },
    body: JSON.stringify(document),
  });
const batch = (credential: string, documents: unknown[]) =>
  h.request("/v1/validate/batch", {
    method: "POST",
    headers: { ...auth(credential), "Content-Type": "application/json" },
    body: JSON.stringify({ schema: { type: "integer" }, documents }),
  });
const putCap = (credential: string, monthlyUnits: number | null) =>
  h.request("/v1/account/spend-cap", {
    method: "PUT",
    headers: { ...auth(credential), "Content-Type": "application/json" },
    body: JSON.stringify({ monthly_units: monthlyUnits }),
  });
const account = async (credential: string) => {
  const response = await h.request("/v1/account", { headers: auth(credential) });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { usage: Record<string, unknown> }).usage;
};

const period = () => new Date().toISOString().slice(0, 7);
const nextMonth = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
};
/** What admission wrote for `id`: the period counter, the window's units, the stream's records. */
async function written(id: string) {
  await h.settle();
  return {
    period: Number(plain(await h.redisCommand("GET", `sm:usage:${id}:${period()}`)) ?? 0),
    window: await windowUnits(h, id),
    stream: (await usageStream(h)).filter((entry) => entry.subject === id).length,
  };
}

/** A pro account that has paid (a Stripe customer), as a completed checkout leaves it. */
async function payingAccount() {
  const created = await h.account("pro");
  await h.sql.query("update public.accounts set stripe_customer_id = $1 where id = $2", [
    `cus_quota_${created.id.slice(0, 8)}`,
    created.id,
  ]);
  return created;
}

describe("the tier's monthly quota", () => {
  it("refuses the call that would pass it with 429 QUOTA_EXCEEDED and the reset, writing nothing", async () => {
    const { id, apiKey, token } = await h.account("free");
    for (const credential of [apiKey, token, apiKey]) expect((await validate(credential)).status).toBe(200);
    const before = await written(id);
    expect(before).toEqual({ period: QUOTA, window: QUOTA, stream: QUOTA });

    for (const credential of [apiKey, token]) {
      const refused = await validate(credential);
      expect(refused.status).toBe(429);
      const problem = await problemOf(refused);
      expect(problem).toMatchObject({
        code: "QUOTA_EXCEEDED",
        quota_kind: "quota",
        quota: QUOTA,
        used: QUOTA,
        cost: 1,
        reset_at: nextMonth().toISOString(),
      });
      expect(String(problem.detail)).toMatch(/free tier's quota of 3 units a month.*Not billed/);
      const retryAfter = Number(refused.headers.get("Retry-After"));
      expect(Math.abs(retryAfter - (nextMonth().getTime() - Date.now()) / 1000)).toBeLessThan(30);
      expect(refused.headers.get("RateLimit-Policy")).toBe('"free";q=50;w=10');
    }
    // Nothing written: not billed, not counted in the window, no usage record.
    expect(await written(id)).toEqual(before);
    expect(await billedUnits(h, id)).toBe(QUOTA);
    // The account can still be read (and shows why), and non-billed calls still answer.
    expect(await account(apiKey)).toMatchObject({
      units: QUOTA,
      monthly_quota: QUOTA,
      spend_cap: null,
      limit: QUOTA,
      remaining: 0,
      resets_at: nextMonth().toISOString(),
    });
  });

  it("refuses a batch that would cross it whole; a smaller one that fits is admitted", async () => {
    const { id, apiKey } = await h.account("free");
    expect((await validate(apiKey)).status).toBe(200);
    const crossing = await batch(apiKey, [1, 2, 3]);
    expect(crossing.status).toBe(429);
    expect(await problemOf(crossing)).toMatchObject({ code: "QUOTA_EXCEEDED", used: 1, cost: 3 });
    expect(await written(id)).toEqual({ period: 1, window: 1, stream: 1 });
    const fitting = await batch(apiKey, [1, "two"]);
    expect(fitting.status).toBe(200);
    expect(await account(apiKey)).toMatchObject({ units: 3, remaining: 0 });
    expect(await billedUnits(h, id)).toBe(3);
  });

  it("admits exactly the quota under concurrency", async () => {
    const { id, apiKey } = await h.account("free");
    const statuses = await Promise.all(
      Array.from({ length: 12 }, () => validate(apiKey).then((r) => r.status)),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(QUOTA);
    expect(statuses.filter((status) => status === 429)).toHaveLength(12 - QUOTA);
    expect(await written(id)).toEqual({ period: QUOTA, window: QUOTA, stream: QUOTA });
  });

  it("a tier without a quota shows none", async () => {
    const { apiKey } = await h.account("pro");
    expect((await validate(apiKey)).status).toBe(200);
    expect(await account(apiKey)).toMatchObject({
      units: 1,
      monthly_quota: null,
      spend_cap: null,
      limit: null,
      remaining: null,
    });
  });
});

describe("the spend cap (PUT / DELETE /v1/account/spend-cap)", () => {
  it("caps a paying account's month: refused past it, at once when set below usage, free again when removed", async () => {
    const { id, apiKey, token } = await payingAccount();
    const set = await putCap(apiKey, 2);
    expect(set.status, await set.clone().text()).toBe(200);
    expect(await set.json()).toMatchObject({
      spend_cap: 2,
      usage: { period: period(), monthly_quota: null, spend_cap: 2, limit: 2, remaining: 2 },
    });
    const ttl = Number(plain(await h.redisCommand("TTL", `sm:cap:${id}`)));
    expect(ttl).toBeGreaterThan(30 * 24 * 3600);

    expect((await validate(apiKey)).status).toBe(200);
    expect((await validate(token)).status).toBe(200);
    for (const credential of [apiKey, token]) {
      const refused = await validate(credential);
      expect(refused.status).toBe(429);
      const problem = await problemOf(refused);
      expect(problem).toMatchObject({ code: "QUOTA_EXCEEDED", quota_kind: "cap", quota: 2, used: 2 });
      expect(String(problem.detail)).toMatch(/spend cap of 2 units a month/);
    }
    expect(await account(token)).toMatchObject({ units: 2, spend_cap: 2, limit: 2, remaining: 0 });

    const removed = await h.request("/v1/account/spend-cap", { method: "DELETE", headers: auth(apiKey) });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ spend_cap: null, usage: { limit: null, remaining: null } });
    // Removal keeps its version in the mirror (`:<version>`), so an older write cannot bring the cap back.
    expect(plain(await h.redisCommand("GET", `sm:cap:${id}`))).toBe(":2");
    expect((await validate(token)).status).toBe(200);

    // A cap below what was used refuses the next call at once; null removes it too.
    expect((await putCap(token, 1)).status).toBe(200);
    expect((await validate(apiKey)).status).toBe(429);
    expect(await account(apiKey)).toMatchObject({ units: 3, spend_cap: 1, remaining: 0 });
    expect((await putCap(token, null)).status).toBe(200);
    expect((await validate(apiKey)).status).toBe(200);
    expect(await billedUnits(h, id)).toBe(4);
    const { rows } = await h.sql.query("select spend_cap_units from public.accounts where id = $1", [id]);
    expect(rows[0].spend_cap_units).toBeNull();
  });

  it("the lower of quota and cap is in force; 0 stops every billed call", async () => {
    const { apiKey } = await payingAccount();
    expect((await putCap(apiKey, 0)).status).toBe(200);
    const refused = await validate(apiKey);
    expect(await problemOf(refused)).toMatchObject({ code: "QUOTA_EXCEEDED", quota_kind: "cap", quota: 0 });
    // The account read and the cap routes are not billed calls: they still answer.
    expect(await account(apiKey)).toMatchObject({ units: 0, spend_cap: 0, limit: 0, remaining: 0 });
  });

  it("is refused for an account that does not pay, with a clear message; bad bodies are 400", async () => {
    const free = await h.account("free");
    const refused = await putCap(free.apiKey, 100);
    expect(refused.status).toBe(403);
    const problem = await problemOf(refused);
    expect(problem.code).toBe("SPEND_CAP_UNAVAILABLE");
    expect(String(problem.detail)).toMatch(/paying accounts.*POST \/v1\/billing\/checkout/);
    // Pro in Postgres but no Stripe customer (no checkout completed): not paying either.
    const unpaid = await h.account("pro");
    expect((await putCap(unpaid.apiKey, 100)).status).toBe(403);
    // Removing a cap is allowed on any tier (there is none to remove here).
    expect(
      (await h.request("/v1/account/spend-cap", { method: "DELETE", headers: auth(free.apiKey) })).status,
    ).toBe(200);
    const paying = await payingAccount();
    for (const body of [{ monthly_units: -1 }, { monthly_units: 1.5 }, {}, { monthly_units: "10" }]) {
      const bad = await h.request("/v1/account/spend-cap", {
        method: "PUT",
        headers: { ...auth(paying.apiKey), "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("the Redis mirror is refilled from Postgres at token exchange and at an API key entry fill", async () => {
    const { id, apiKey } = await payingAccount();
    expect((await putCap(apiKey, 1)).status).toBe(200);
    expect((await validate(apiKey)).status).toBe(200);
    // Redis loses the mirror (a flush, a new instance): a token exchange writes it back.
    await h.redisCommand("DEL", `sm:cap:${id}`);
    const minted = await h.request("/v1/token", { method: "POST", headers: auth(apiKey) });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    expect(plain(await h.redisCommand("GET", `sm:cap:${id}`))).toBe("1:1");
    expect((await validate(token)).status).toBe(429);

    // Lost again, with the key's entry: the entry's fill (a miss asks Postgres) writes it back.
    const entries = (plain(await h.redisCommand("KEYS", "sm:apikey:*")) as string[]) ?? [];
    for (const entry of entries) {
      if (plain(await h.redisCommand("HGET", entry, "subject")) === id) await h.redisCommand("DEL", entry);
    }
    await h.redisCommand("DEL", `sm:cap:${id}`);
    const afterMiss = await validate(apiKey);
    expect(plain(await h.redisCommand("GET", `sm:cap:${id}`))).toBe("1:1");
    expect(afterMiss.status).toBe(429);
    expect(await billedUnits(h, id)).toBe(1);
  });
});

describe("the spend cap's mirror is monotone (put-spend-cap)", () => {
  it("a write that read Postgres before a change (an older version) cannot undo it", async () => {
    const { id, apiKey } = await payingAccount();
    // A token exchange reads the account (no cap, version 0), then PUT sets a cap (version 1) and
    // mirrors it, then the exchange's write arrives: it is skipped, and the cap stays in force.
    const minted = await h.request("/v1/token", { method: "POST", headers: auth(apiKey) });
    expect(minted.status).toBe(200);
    expect(plain(await h.redisCommand("GET", `sm:cap:${id}`))).toBe(":0");
    expect((await putCap(apiKey, 0)).status).toBe(200);
    expect(await h.redis.putSpendCap(id, { units: null, version: 0 })).toBe(false);
    expect(plain(await h.redisCommand("GET", `sm:cap:${id}`))).toBe("0:1");
    expect((await validate(apiKey)).status).toBe(429);
    // The same version again is written (a refill refreshes the TTL); a newer one replaces it.
    expect(await h.redis.putSpendCap(id, { units: 0, version: 1 })).toBe(true);
    expect(
      (await h.request("/v1/account/spend-cap", { method: "DELETE", headers: auth(apiKey) })).status,
    ).toBe(200);
    expect(await h.redis.putSpendCap(id, { units: 0, version: 1 })).toBe(false);
    expect((await validate(apiKey)).status).toBe(200);
  });
});

describe("Redis requests per admitted call (counted at the bridge)", () => {
  it("is still one with a quota or a cap in force", async () => {
    const free = await h.account("free");
    const otherFree = await h.account("free");
    // A cap in force on an account without a Stripe customer, so that no answered-units count (a
    // paying account's, after the response) shares the bridge's count with admission.
    const capped = await h.account("pro");
    await h.redisCommand("SET", `sm:cap:${capped.id}`, "100:1", "EX", "600");
    // Two calls each: within the quota of 3 (the free key and token are of two accounts).
    for (const credential of [free.apiKey, otherFree.token, capped.apiKey, capped.token]) {
      await validate(credential); // warm (a first call per key may fill its entry)
      h.stack.redisBridge.resetCount();
      expect((await validate(credential)).status).toBe(200);
      expect(h.stack.redisBridge.requestCount()).toBe(1);
      expect(h.stack.redisBridge.commandLog().at(-1)?.[0]?.toUpperCase()).toBe("EVALSHA");
      await h.settle();
    }
    // A refusal for the quota is one request too.
    const { apiKey } = await h.account("free");
    for (let i = 0; i < QUOTA; i++) await validate(apiKey);
    await h.settle();
    h.stack.redisBridge.resetCount();
    expect((await validate(apiKey)).status).toBe(429);
    expect(h.stack.redisBridge.requestCount()).toBe(1);
  });
});
