/**
 * The rate limit counts units, not requests: a batch costs its documents (2 each with enrichment),
 * shown as `cost` in the RateLimit header; a call costing more than the whole window is 422 and
 * writes nothing; a 422 refusal after admission consumes what it was admitted at, unbilled; a
 * request refused for its form (400, 415) is rate limited as one request, unbilled.
 * Through the API against the real local stack (free tier: 5 units per 10 s).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { windowRuns, windowUnits } from "../../support/raw-redis";
import { type AccessHarness, plain, problemOf, startAccessHarness } from "../harness/access";
import { billedUnits } from "../harness/billed-units";

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

const post = (key: string, path: string, body: unknown) =>
  h.request(path, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("rate limit by cost", () => {
  it("a batch counts its documents against the window, and the RateLimit header says its cost", async () => {
    const { apiKey, id } = await h.account("free");
    const three = await post(apiKey, "/v1/validate/batch", { schema: {}, documents: [1, 2, 3] });
    expect(three.status).toBe(200);
    expect(three.headers.get("RateLimit")).toMatch(/^"free";r=2;t=\d+;cost=3$/);
    // Three more do not fit in the two left: 429, what is left (2) and when three will fit.
    const again = await post(apiKey, "/v1/validate/batch", { schema: {}, documents: [1, 2, 3] });
    expect(again.status).toBe(429);
    expect(again.headers.get("RateLimit")).toMatch(/^"free";r=2;t=(9|10);cost=3$/);
    expect(Number(again.headers.get("Retry-After"))).toBeGreaterThanOrEqual(9);
    expect((await problemOf(again)).detail).toMatch(/5 units per 10 s .*this one 3/);
    // One document still fits, and costs 1 (no cost parameter).
    const one = await post(apiKey, "/v1/validate", { schema: {}, data: 1 });
    expect(one.status).toBe(200);
    expect(one.headers.get("RateLimit")).toMatch(/^"free";r=1;t=\d+$/);
    await h.settle();
    expect(await billedUnits(h, id)).toBe(4);
  });

  it("a call that costs more than the whole window is 422 LIMIT_EXCEEDED and writes nothing", async () => {
    const { apiKey, id } = await h.account("free");
    for (const body of [
      { schema: {}, documents: [1, 2, 3, 4, 5, 6] },
      { schema: {}, documents: [1, 2, 3], enrich: true },
    ]) {
      const response = await post(apiKey, "/v1/validate/batch", body);
      expect(response.status).toBe(422);
      expect(await problemOf(response)).toMatchObject({
        code: "LIMIT_EXCEEDED",
        limit: "rate_limit_cost",
        rate_limit: 5,
      });
    }
    expect(plain(await h.redisCommand("EXISTS", `sm:rw:${id}`))).toBe(0);
    await h.settle();
    expect(await billedUnits(h, id)).toBe(0);
    // Five documents fit exactly.
    const five = await post(apiKey, "/v1/validate/batch", { schema: {}, documents: [1, 2, 3, 4, 5] });
    expect(five.status).toBe(200);
    expect(five.headers.get("RateLimit")).toMatch(/^"free";r=0;t=\d+;cost=5$/);
  });

  it("a 422 after admission consumes the units it was admitted at, and is not billed", async () => {
    const { apiKey, id } = await h.account("free");
    const refused = await post(apiKey, "/v1/validate/batch", {
      schema: { type: "nonsense" },
      documents: [1, 2],
    });
    expect(refused.status).toBe(422);
    expect(refused.headers.get("RateLimit")).toMatch(/^"free";r=3;t=\d+;cost=2$/);
    // A 400 (malformed request) is rate limited as one request, and never billed.
    const malformed = await post(apiKey, "/v1/validate/batch", { documents: [1] });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("RateLimit")).toMatch(/^"free";r=2;t=\d+$/);
    const next = await post(apiKey, "/v1/validate", { schema: {}, data: 1 });
    expect(next.headers.get("RateLimit")).toMatch(/^"free";r=1;/);
    await h.settle();
    expect(await billedUnits(h, id)).toBe(1);
  });

  it("malformed requests count against the window: past it they are 429, not 400, and nothing is billed", async () => {
    const { apiKey, id } = await h.account("free");
    const notJson = () =>
      h.request("/v1/validate", {
        method: "POST",
        headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
        body: "{not json",
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await notJson()).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    const limited = await post(apiKey, "/v1/validate", { schema: {}, data: 1 });
    expect(limited.status).toBe(429);
    await h.settle();
    expect(await billedUnits(h, id)).toBe(0);
  });

  it("carries the former log (a sorted set) of a subject over into its window once, then deletes it", async () => {
    const { apiKey, id } = await h.account("free");
    const now = Date.now();
    // As the log left it: bare ids cost 1, `<id>|<cost>` their cost; one entry already out of the window.
    await h.redisCommand("ZADD", `sm:rl:${id}`, String(now - 20_000), "u_gone", String(now - 1000), "u_old1");
    await h.redisCommand("ZADD", `sm:rl:${id}`, String(now - 500), "u_old2|2");
    await h.redisCommand("PEXPIRE", `sm:rl:${id}`, "10000");
    await h.redisCommand("SET", `sm:rl:${id}:units`, "3", "PX", "10000");
    const response = await post(apiKey, "/v1/validate", { schema: {}, data: 1 });
    expect(response.headers.get("RateLimit")).toMatch(/^"free";r=1;/);
    // Rewritten as runs: the two live entries at their own times, then this call; the log is gone.
    expect(plain(await h.redisCommand("EXISTS", `sm:rl:${id}`, `sm:rl:${id}:units`))).toBe(0);
    const runs = await windowRuns(h, id);
    expect(runs.slice(0, 2)).toEqual([
      { atMs: now - 1000, units: 1, spanMs: 0 },
      { atMs: now - 500, units: 2, spanMs: 0 },
    ]);
    expect(runs).toHaveLength(3);
    expect(await windowUnits(h, id)).toBe(4);
    const ttl = Number(plain(await h.redisCommand("PTTL", `sm:rw:${id}`)));
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    // The fifth unit fits; the window is then full until the oldest live entry leaves (in 9 s).
    const last = await post(apiKey, "/v1/validate", { schema: {}, data: 1 });
    expect(last.status).toBe(200);
    expect(last.headers.get("RateLimit")).toMatch(/^"free";r=0;t=9$/);
  });
});
