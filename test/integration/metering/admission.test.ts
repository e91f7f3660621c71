/**
 * Admission against real Redis (own redis-server behind the Upstash-compatible bridge): the
 * sliding window at its edges, concurrency, TTLs on every key written, the usage stream and
 * period counter, compensation, tier override, and the Redis requests per admitted call.
 */
import type { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { AppBindings } from "../../../src/env";
import { ApiError } from "../../../src/errors";
import { jsonBody, requireJson } from "../../../src/lib/json-body";
import { admitRequest } from "../../../src/metering/admit";
import { WINDOW_RUNS } from "../../../src/metering/scripts/rate-window";
import { admitUsage } from "../../../src/middleware/admission";
import { requireToken } from "../../../src/middleware/auth";
import { windowRuns, windowUnits } from "../../support/raw-redis";
import { type AccessHarness, plain, problemOf, startAccessHarness, usageStream } from "../harness/access";

let h: AccessHarness;
/** The admission clock of the test routes (ms); null = real time. */
let clock: number | null = null;
const now = () => clock ?? Date.now();

/** Routes a validate-like feature would have: billable (1 or 2 units), failing after admission. */
function testRoutes(app: Hono<AppBindings>) {
  app.get("/test/billable", requireToken(), admitUsage({ units: 1, now }), (c) => c.json({ ok: true }));
  // As the validate route will: units from the validated body (2 with enrichment).
  const body = z.object({ enrich: z.boolean().default(false) });
  app.post(
    "/test/enriched",
    requireJson,
    jsonBody(body),
    requireToken(),
    admitUsage<{ out: { json: z.infer<typeof body> } }>({
      units: (c) => (c.req.valid("json").enrich ? 2 : 1),
      now,
    }),
    (c) => c.json({ ok: true }),
  );
  app.get("/test/crash", requireToken(), admitUsage({ units: 1, now }), () => {
    throw new Error("engine crashed");
  });
  app.get("/test/unprocessable", requireToken(), admitUsage({ units: 1, now }), () => {
    throw new ApiError("BAD_REQUEST", "schema unreachable");
  });
}

beforeAll(async () => {
  h = await startAccessHarness({ routes: testRoutes });
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  clock = null;
});

const bearer = (token: string, requestId?: string) => ({
  headers: { Authorization: `Bearer ${token}`, ...(requestId && { "X-Request-Id": requestId }) },
});

describe("sliding window", () => {
  it("admits exactly the limit in any window; an entry stops counting exactly one window later", async () => {
    const { token } = await h.account("free"); // 5 per 10 s
    const call = async (at: number) => {
      clock = T + at;
      return h.request("/test/billable", bearer(token));
    };
    const T = Date.now();
    for (let i = 0; i < 5; i++) expect((await call(i)).status).toBe(200);

    const limited = await call(9_999);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("1");
    expect(limited.headers.get("RateLimit-Policy")).toBe('"free";q=5;w=10');
    expect(limited.headers.get("RateLimit")).toBe('"free";r=0;t=1');
    expect(await problemOf(limited)).toMatchObject({ status: 429, code: "RATE_LIMITED" });

    // Refused requests add nothing: at T+10000 the first entry (T+0) leaves, so one slot opens.
    const edge = await call(10_000);
    expect(edge.status).toBe(200);
    expect(edge.headers.get("RateLimit")).toBe('"free";r=0;t=1');
    expect((await call(10_000)).status).toBe(429);
    expect((await call(10_001)).status).toBe(200);
    // A long wait says so: after five at once, Retry-After is the full window.
    const { token: other } = await h.account("free");
    clock = T;
    for (let i = 0; i < 5; i++) await h.request("/test/billable", bearer(other));
    const wait = await h.request("/test/billable", bearer(other));
    expect(wait.headers.get("Retry-After")).toBe("10");
  });

  it("never admits more than the limit under concurrency (HTTP and direct)", async () => {
    const { token } = await h.account("free");
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () => h.request("/test/billable", bearer(token)).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);

    const { id } = await h.account("pro");
    const outcomes = await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        admitRequest(
          {
            redis: h.redis,
            settings: {
              tiers: {
                free: { limit: 5, windowSeconds: 10 },
                pro: { limit: 100, windowSeconds: 10 },
              },
              failClosedTiers: ["free"],
            },
          },
          {
            subject: id,
            tier: "pro",
            stripeCustomerId: "cus_x",
            apiKeyId: null,
            units: 1,
            requestId: `r${i}`,
          },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.outcome === "admitted")).toHaveLength(100);
    expect(outcomes.filter((o) => o.outcome === "rate_limited")).toHaveLength(150);
    expect(outcomes.some((o) => o.outcome === "admitted" && o.mode === "degraded")).toBe(false);
    // The window holds the 100 units admitted, in a state that does not grow with the limit.
    expect(await windowUnits(h, id)).toBe(100);
    expect((await windowRuns(h, id)).length).toBeLessThanOrEqual(WINDOW_RUNS);
  });

  it("applies a tier override set in Redis over the token's tier", async () => {
    const { token, id } = await h.account("free");
    await h.redis.setTierOverride(id, "pro", 600);
    const response = await h.request("/test/billable", bearer(token));
    expect(response.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
    const [record] = (await usageStream(h)).filter((r) => r.subject === id);
    expect(record?.tier).toBe("pro");
    await h.redis.setTierOverride(id, null, 0);
    expect((await h.request("/test/billable", bearer(token))).headers.get("RateLimit-Policy")).toBe(
      '"free";q=5;w=10',
    );
  });
});

describe("usage records", () => {
  it("a billable call appends one record and counts its units; a non-billable call neither", async () => {
    const { token, id } = await h.account("pro");
    const before = (await usageStream(h)).length;
    expect((await h.request("/v1/account", bearer(token))).status).toBe(200);
    expect((await usageStream(h)).length).toBe(before);

    const response = await h.request("/test/billable", bearer(token, "trace-billable-1"));
    expect(response.status).toBe(200);
    const enriched = await h.request("/test/enriched", {
      method: "POST",
      headers: { ...bearer(token).headers, "Content-Type": "application/json" },
      body: JSON.stringify({ enrich: true }),
    });
    expect(enriched.status).toBe(200);
    const records = (await usageStream(h)).filter((r) => r.subject === id);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      kind: "admit",
      request_id: "trace-billable-1",
      subject: id,
      stripe_customer_id: "",
      tier: "pro",
      units: "1",
      source: "live",
    });
    expect(records[0]?.id).toMatch(/^u_[0-9a-f]{32}$/);
    expect(new Date(records[0]!.ts!).toISOString()).toBe(records[0]!.ts);
    expect(records[1]?.units).toBe("2");

    const account = (await (await h.request("/v1/account", bearer(token))).json()) as {
      usage: { units: number };
    };
    expect(account.usage.units).toBe(3);
  });

  it("compensates an admitted call that ends in 5xx (or any non-2xx), with the same id", async () => {
    const { token, id } = await h.account("pro");
    const crashed = await h.request("/test/crash", bearer(token));
    expect(crashed.status).toBe(500);
    expect(crashed.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
    const refused = await h.request("/test/unprocessable", bearer(token));
    expect(refused.status).toBe(400);
    await h.settle();

    const records = (await usageStream(h)).filter((r) => r.subject === id);
    // Compensations are appended after the response (waitUntil), so order by id, not arrival.
    const byId = new Map<string, string[]>();
    for (const r of records) byId.set(r.id!, [...(byId.get(r.id!) ?? []), `${r.kind}:${r.units}`]);
    expect([...byId.values()]).toEqual([
      ["admit:1", "compensate:-1"],
      ["admit:1", "compensate:-1"],
    ]);
    const account = (await (await h.request("/v1/account", bearer(token))).json()) as {
      usage: { units: number };
    };
    expect(account.usage.units).toBe(0);

    // A retried compensation is a no-op (marker per id and kind).
    const admitted = records.find((r) => r.kind === "admit");
    const again = await h.redis.appendUsage(
      {
        id: admitted!.id!,
        kind: "compensate",
        requestId: "x",
        subject: id,
        stripeCustomerId: null,
        tier: "pro",
        units: -1,
        occurredAtMs: Date.now(),
      },
      "live",
    );
    expect(again).toBe(false);
    expect((await usageStream(h)).filter((r) => r.subject === id)).toHaveLength(4);
  });

  it("puts a TTL on every key the scripts write", async () => {
    const { token, id } = await h.account("pro");
    await h.request("/test/billable", bearer(token));
    await h.request("/test/crash", bearer(token));
    await h.settle();
    await h.redis.denySubject("someone", 60);
    await h.redis.setTierOverride(id, "pro", 60);
    const keys = plain(await h.redisCommand("KEYS", "*")) as string[];
    expect(keys).toEqual(
      expect.arrayContaining([
        "sm:usage-stream",
        `sm:rw:${id}`,
        `sm:usage:${id}:${new Date().toISOString().slice(0, 7)}`,
        expect.stringMatching(/^sm:appended:u_[0-9a-f]{32}:compensate$/),
        expect.stringMatching(/^sm:rw:signup-ip:/),
        "sm:deny:sub:someone",
        `sm:tier:${id}`,
      ]),
    );
    const ttls = await Promise.all(
      keys.map(async (key) => [key, plain(await h.redisCommand("TTL", key))] as const),
    );
    expect(ttls.filter(([, ttl]) => typeof ttl !== "number" || ttl <= 0)).toEqual([]);
    const windowTtl = plain(await h.redisCommand("PTTL", `sm:rw:${id}`)) as number;
    expect(windowTtl).toBeGreaterThan(9_000);
    expect(windowTtl).toBeLessThanOrEqual(10_000);
  });
});

describe("Redis requests per admitted call (counted at the bridge)", () => {
  it("is one: a single EVALSHA; two only for the first call after Redis lost its script cache", async () => {
    const { token } = await h.account("pro");
    await h.request("/test/billable", bearer(token)); // warm
    h.stack.redisBridge.resetCount();
    for (let i = 0; i < 10; i++) expect((await h.request("/test/billable", bearer(token))).status).toBe(200);
    expect(h.stack.redisBridge.requestCount()).toBe(10);
    expect(
      h.stack.redisBridge
        .commandLog()
        .slice(-10)
        .every((command) => command[0]?.toUpperCase() === "EVALSHA"),
    ).toBe(true);

    h.stack.redisBridge.resetCount();
    expect((await h.request("/v1/account", bearer(token))).status).toBe(200);
    expect(h.stack.redisBridge.requestCount()).toBe(1);

    await h.redisCommand("SCRIPT", "FLUSH");
    h.stack.redisBridge.resetCount();
    expect((await h.request("/test/billable", bearer(token))).status).toBe(200);
    expect(h.stack.redisBridge.requestCount()).toBe(2);
    expect(
      h.stack.redisBridge
        .commandLog()
        .slice(-2)
        .map((command) => command[0]?.toUpperCase()),
    ).toEqual(["EVALSHA", "EVAL"]);
    h.stack.redisBridge.resetCount();
    expect((await h.request("/test/billable", bearer(token))).status).toBe(200);
    expect(h.stack.redisBridge.requestCount()).toBe(1);
  });
});
