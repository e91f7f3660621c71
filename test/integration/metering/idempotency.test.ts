/**
 * Idempotency-Key on POST /v1/validate and /v1/validate/batch, through the API against the real
 * local stack: a retry is answered the first response and billed once, 20 concurrent duplicates
 * bill once, another body is 422, refusals free the key, an oversized response keeps its status,
 * and the unhappy paths (Redis down, an admission that timed out but ran) bill nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AccessHarness, plain, problemOf, startAccessHarness } from "../harness/access";
import { billedUnits, billedUnitsByRequest } from "../harness/billed-units";

const TIERS = JSON.stringify({
  free: { limit: 5, windowSeconds: 10 },
  pro: { limit: 1000, windowSeconds: 10 },
});
let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({ env: { RATE_LIMIT_TIERS: TIERS } });
});
afterAll(async () => {
  await h?.stop();
});

const invalidOrder = { schema: { type: "object", required: ["id"] }, data: { name: "x" } };

function post(credential: string, path: string, body: unknown, key?: string, requestId?: string) {
  return h.request(path, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${credential}`,
      "Content-Type": "application/json",
      ...(key !== undefined && { "Idempotency-Key": key }),
      ...(requestId && { "X-Request-Id": requestId }),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("Idempotency-Key", () => {
  it("answers a retry with the first response, Idempotent-Replayed, billed once (API key and token)", async () => {
    const account = await h.account("pro");
    for (const credential of [account.apiKey, account.token]) {
      const key = crypto.randomUUID();
      const first = await post(credential, "/v1/validate", invalidOrder, key);
      expect(first.status).toBe(200);
      expect(first.headers.get("Idempotent-Replayed")).toBeNull();
      const firstBody = await first.text();
      await h.settle();
      const retry = await post(credential, "/v1/validate", invalidOrder, key);
      expect(retry.status).toBe(200);
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      expect(retry.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(retry.headers.get("RateLimit-Policy")).toBe('"pro";q=1000;w=10');
      expect(await retry.text()).toBe(firstBody);
    }
    await h.settle();
    // Two first calls billed, the two replays not; a call without a key is billed as always.
    expect(await billedUnits(h, account.id)).toBe(2);
    expect((await post(account.apiKey, "/v1/validate", invalidOrder)).status).toBe(200);
    expect((await post(account.apiKey, "/v1/validate", invalidOrder)).status).toBe(200);
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(4);
  });

  it("bills 20 concurrent duplicates once: one answer, the others 409 IN_USE or the replay", async () => {
    const account = await h.account("pro");
    const key = `order-${crypto.randomUUID()}`;
    const body = { schema: { type: "integer" }, documents: [1, 2, "three"] };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post(account.apiKey, "/v1/validate/batch", body, key)),
    );
    const first = responses.filter((r) => r.status === 200 && !r.headers.get("Idempotent-Replayed"));
    const replays = responses.filter((r) => r.status === 200 && r.headers.get("Idempotent-Replayed"));
    const inUse = responses.filter((r) => r.status === 409);
    expect(first).toHaveLength(1);
    expect(replays.length + inUse.length).toBe(19);
    for (const response of inUse) {
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(await problemOf(response)).toMatchObject({ code: "IDEMPOTENCY_KEY_IN_USE" });
    }
    await h.settle();
    const retry = await post(account.apiKey, "/v1/validate/batch", body, key);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await retry.json()).toEqual(await first[0]!.json());
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(3);
  });

  it("refuses the same key with another body or path (422 IDEMPOTENCY_KEY_REUSED), unbilled", async () => {
    const account = await h.account("pro");
    const key = crypto.randomUUID();
    expect((await post(account.apiKey, "/v1/validate", invalidOrder, key)).status).toBe(200);
    await h.settle();
    const other = await post(account.apiKey, "/v1/validate", { ...invalidOrder, data: { id: 1 } }, key);
    expect(other.status).toBe(422);
    expect(await problemOf(other)).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", status: 422 });
    const batch = await post(account.apiKey, "/v1/validate/batch", { schema: {}, documents: [1] }, key);
    expect(batch.status).toBe(422);
    // Keys are per account: another account's call with the same key is its own.
    const stranger = await h.account("pro");
    expect((await post(stranger.apiKey, "/v1/validate", { schema: {}, data: 1 }, key)).status).toBe(200);
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(1);
  });

  it("refuses a malformed key (400) and frees the key of a refused call, so its retry is a new call", async () => {
    const account = await h.account("pro");
    for (const bad of ["", "x".repeat(256), "caf\u00e9"]) {
      const response = await post(account.apiKey, "/v1/validate", invalidOrder, bad);
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({ code: "IDEMPOTENCY_KEY_INVALID" });
    }
    const key = crypto.randomUUID();
    const bad = { schema: { type: "nonsense" }, data: 1 };
    expect((await post(account.apiKey, "/v1/validate", bad, key)).status).toBe(422);
    await h.settle();
    const again = await post(account.apiKey, "/v1/validate", bad, key);
    expect(again.status).toBe(422);
    expect(again.headers.get("Idempotent-Replayed")).toBeNull();
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(0);
  });

  it("keeps only the status of a response over 64 KiB and says so", async () => {
    const account = await h.account("pro");
    const key = crypto.randomUUID();
    const body = { schema: { type: "object" }, data: { text: "a".repeat(70_000) }, enrich: true };
    const first = await post(account.apiKey, "/v1/validate", body, key);
    expect(first.status).toBe(200);
    expect((await first.text()).length).toBeGreaterThan(64 * 1024);
    await h.settle();
    const retry = await post(account.apiKey, "/v1/validate", body, key);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await retry.json()).toMatchObject({ idempotent_replayed: true, response_stored: false, units: 2 });
    await h.settle();
    expect(await billedUnits(h, account.id)).toBe(2);
  });

  it("keeps what it stores for 24 h, by hashes only", async () => {
    const account = await h.account("pro");
    const key = `secret-looking-${crypto.randomUUID()}`;
    expect((await post(account.apiKey, "/v1/validate", invalidOrder, key)).status).toBe(200);
    await h.settle();
    const names = plain(await h.redisCommand("KEYS", `sm:idem:${account.id}:*`)) as string[];
    expect(names).toHaveLength(1);
    expect(names[0]).not.toContain(key);
    const ttl = Number(plain(await h.redisCommand("TTL", names[0]!)));
    expect(ttl).toBeGreaterThan(24 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
  });

  it("while Redis is down, a call with a key is 503 and unbilled (without a key the paid tier is served)", async () => {
    const account = await h.account("pro");
    // Warm the key's caller in this isolate: the outage path asks Postgres who the key is.
    expect((await post(account.apiKey, "/v1/validate", invalidOrder)).status).toBe(200);
    await h.stack.redis.stop();
    try {
      const keyed = await post(
        account.apiKey,
        "/v1/validate",
        invalidOrder,
        crypto.randomUUID(),
        "down-keyed",
      );
      expect(keyed.status).toBe(503);
      expect(await problemOf(keyed)).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE" });
      const plainCall = await post(account.apiKey, "/v1/validate", invalidOrder, undefined, "down-plain");
      expect(plainCall.status).toBe(200);
      await h.settle();
    } finally {
      await h.stack.redis.start();
    }
    const billed = await billedUnitsByRequest(h, account.id);
    expect(billed.get("down-keyed") ?? 0).toBe(0);
    expect(billed.get("down-plain")).toBe(1);
  });
});

describe("Idempotency-Key when admission timed out but its script ran", () => {
  let slow: AccessHarness;
  beforeAll(async () => {
    slow = await startAccessHarness({ env: { RATE_LIMIT_TIERS: TIERS, ADMISSION_TIMEOUT_MS: "50" } });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it("answers 503, compensates the usage the script admitted, and frees the key for the retry", async () => {
    const account = await slow.account("pro");
    const call = (key: string, requestId: string) =>
      slow.request("/v1/validate", {
        method: "POST",
        headers: {
          Authorization: `Bearer ${account.token}`,
          "Content-Type": "application/json",
          "Idempotency-Key": key,
          "X-Request-Id": requestId,
        },
        body: JSON.stringify(invalidOrder),
      });
    // Load the script into Redis first (a timed-out EVALSHA on an empty script cache runs nothing).
    expect((await call(crypto.randomUUID(), "warm")).status).toBe(200);
    const key = crypto.randomUUID();
    const script = `local s = redis.call('TIME') local start = s[1] * 1000000 + s[2]
      while true do local t = redis.call('TIME') if t[1] * 1000000 + t[2] - start > 600000 then break end end
      return 1`;
    const blocked = slow.redisCommand("EVAL", script, "0");
    await new Promise((done) => setTimeout(done, 50));
    const timedOut = await call(key, "timed-out");
    expect(timedOut.status).toBe(503);
    await blocked;
    await slow.settle();
    // The script did run after the timeout: its admission is in the stream, and compensated.
    await expect
      .poll(async () => (await billedUnitsByRequest(slow, account.id)).has("timed-out"), { timeout: 3000 })
      .toBe(true);
    await slow.settle();
    expect((await billedUnitsByRequest(slow, account.id)).get("timed-out")).toBe(0);
    // The key is free again: the retry is answered and billed once.
    const retry = await call(key, "retry");
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    await slow.settle();
    expect((await billedUnitsByRequest(slow, account.id)).get("retry")).toBe(1);
    expect(await billedUnits(slow, account.id)).toBe(2);
  });
});
