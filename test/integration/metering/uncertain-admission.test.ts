/**
 * The billing invariant when the admission call times out but the script still runs in Redis: a
 * busy script blocks Redis for 600 ms, the 50 ms admission budget runs out, the request falls back
 * to the per-isolate limiter, and the admission scripts run once Redis is free again. Every answer
 * that is not a 2xx must be compensated, so the units billed per request id equal the units
 * answered 2xx. Reproduces the review's finding (10 of 10 such 429s were billed).
 */
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppBindings } from "../../../src/env";
import { admitUsage } from "../../../src/middleware/admission";
import { requireToken } from "../../../src/middleware/auth";
import { type AccessHarness, startAccessHarness, usageStream } from "../harness/access";
import { billedUnitsByRequest, blockRedis } from "../harness/billed-units";

let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({
    env: {
      ADMISSION_TIMEOUT_MS: "50",
      // A small paid tier (fail-open), so the fallback window fills after three calls.
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 3, windowSeconds: 10 },
      }),
    },
    routes: (app: Hono<AppBindings>) => {
      app.get("/test/billable", requireToken(), admitUsage({ units: 1 }), (c) => c.json({ ok: true }));
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

describe("an admission that timed out but ran", () => {
  it("bills exactly the calls answered 2xx: the 429s of the fallback limiter are compensated", async () => {
    const pro = await h.account("pro");
    const call = async (requestId: string) => {
      const response = await h.request("/test/billable", {
        headers: { Authorization: `Bearer ${pro.token}`, "X-Request-Id": requestId },
      });
      await response.arrayBuffer();
      return { requestId, status: response.status };
    };
    const tag = pro.id.slice(0, 8);
    // An outage first: three calls served fail-open fill this isolate's fallback window (and are
    // recorded in Postgres), while Redis's own window stays empty.
    await h.stack.redis.stop();
    const served: Array<{ requestId: string; status: number }> = [];
    try {
      for (let i = 0; i < 3; i++) served.push(await call(`served-${i}-${tag}`));
    } finally {
      await h.stack.redis.start();
    }
    expect(served.map((c) => c.status)).toEqual([200, 200, 200]);
    // Another account's call loads the admission script into the restarted Redis (a timed-out
    // EVALSHA that met an empty script cache would have run nothing).
    const other = await h.account("pro");
    expect(
      (await h.request("/test/billable", { headers: { Authorization: `Bearer ${other.token}` } })).status,
    ).toBe(200);

    // Then a slow moment: every call times out, the full fallback window refuses them (429), and
    // their scripts run in Redis afterwards, where the window has room: three of them are admitted.
    const blocked = blockRedis(h, 600);
    await new Promise((done) => setTimeout(done, 50));
    const refused = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`refused-${i}-${tag}`)));
    await blocked;
    await h.settle();
    expect(refused.map((c) => c.status)).toEqual(Array(10).fill(429));
    await expect
      .poll(
        async () => (await usageStream(h)).filter((e) => e.subject === pro.id && e.kind === "admit").length,
      )
      .toBe(3);

    const billed = await billedUnitsByRequest(h, pro.id);
    for (const { requestId, status } of [...served, ...refused]) {
      expect(billed.get(requestId) ?? 0, `${requestId} answered ${status}`).toBe(status === 200 ? 1 : 0);
    }
  });

  it("the fallback window and the Redis window do not add up: a subject Redis had limited stays limited", async () => {
    const pro = await h.account("pro");
    const call = async () =>
      (await h.request("/test/billable", { headers: { Authorization: `Bearer ${pro.token}` } })).status;
    expect([await call(), await call(), await call()]).toEqual([200, 200, 200]);
    expect(await call()).toBe(429);
    await h.stack.redis.stop();
    try {
      // Before: the fallback granted a window of its own, three more calls served.
      expect(await call()).toBe(429);
    } finally {
      await h.stack.redis.start();
    }
    await h.settle();
  });

  it("a fail-closed tier's 503 after a timed-out call is compensated too", async () => {
    const free = await h.account("free");
    const blocked = blockRedis(h, 400);
    await new Promise((done) => setTimeout(done, 50));
    const requestId = `uncertain-free-${free.id.slice(0, 8)}`;
    const response = await h.request("/test/billable", {
      headers: { Authorization: `Bearer ${free.token}`, "X-Request-Id": requestId },
    });
    expect(response.status).toBe(503);
    await blocked;
    await h.settle();
    await expect
      .poll(
        async () => (await usageStream(h)).filter((e) => e.subject === free.id && e.kind === "admit").length,
      )
      .toBe(1);
    expect((await billedUnitsByRequest(h, free.id)).get(requestId)).toBe(0);
  });
});
