/**
 * Redis down or slow, against real Postgres and a real redis-server that the test stops mid-run:
 * paying tiers are served (fail-open) and their usage is recorded durably in Postgres, free is
 * refused (fail-closed), the budget is kept when Redis hangs, and once Redis is back the pending
 * usage is replayed into the stream exactly once.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppBindings } from "../../../src/env";
import { replayPendingUsage } from "../../../src/metering/pending-usage";
import { admitUsage } from "../../../src/middleware/admission";
import { requireToken } from "../../../src/middleware/auth";
import { type AccessHarness, problemOf, startAccessHarness, usageStream } from "../harness/access";

let h: AccessHarness;
let blackHole: Server;
let blackHoleUrl: string;

function testRoutes(app: Hono<AppBindings>) {
  app.get("/test/billable", requireToken(), admitUsage({ units: 1 }), (c) => c.json({ ok: true }));
  app.get("/test/crash", requireToken(), admitUsage({ units: 1 }), () => {
    throw new Error("engine crashed");
  });
}

beforeAll(async () => {
  h = await startAccessHarness({ routes: testRoutes });
  // An "Upstash" that accepts connections and never answers: Redis slow, not down.
  blackHole = createServer(() => {});
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
  blackHoleUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
});
afterAll(async () => {
  blackHole?.closeAllConnections();
  await new Promise((resolve) => blackHole?.close(resolve));
  await h?.stop();
});

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const pendingRows = async (subject: string) =>
  (
    await h.sql.query(
      "select id, kind, units, tier, replayed_at from public.pending_usage where subject = $1 order by recorded_at",
      [subject],
    )
  ).rows as { id: string; kind: string; units: number; tier: string; replayed_at: Date | null }[];

describe("Redis down", () => {
  it("serves paying tiers (billed later, exactly once) and refuses free, then replays when Redis is back", async () => {
    const pro = await h.account("pro");
    const free = await h.account("free");
    expect((await h.request("/test/billable", bearer(pro.token))).status).toBe(200);

    await h.stack.redis.stop();
    try {
      const served = await h.request("/test/billable", bearer(pro.token));
      expect(served.status).toBe(200);
      expect(served.headers.get("RateLimit-Policy")).toBe('"pro";q=100;w=10');
      // The per-isolate fallback limiter still counts: fail-open is not unlimited, and it spends
      // what Redis last said was left (99 after the live call), so the two windows do not add up.
      expect(served.headers.get("RateLimit")).toMatch(/^"pro";r=98;t=\d+$/);
      expect((await h.request("/test/billable", bearer(pro.token))).status).toBe(200);
      expect((await h.request("/test/crash", bearer(pro.token))).status).toBe(500);

      const account = await h.request("/v1/account", bearer(pro.token));
      expect(account.status).toBe(200);
      expect(((await account.json()) as { usage: { units: number | null } }).usage.units).toBeNull();

      const refused = await h.request("/test/billable", bearer(free.token));
      expect(refused.status).toBe(503);
      expect(refused.headers.get("Retry-After")).toBe("1");
      expect(await problemOf(refused)).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE" });

      await h.settle();
      const rows = await pendingRows(pro.id);
      // Two served calls recorded; the crashed one recorded only as a compensation (never billed).
      // Recorded concurrently after each response, so compare without order.
      expect(rows.map((r) => [r.kind, r.units]).sort()).toEqual([
        ["admit", 1],
        ["admit", 1],
        ["compensate", -1],
      ]);
      expect(await pendingRows(free.id)).toEqual([]);
    } finally {
      await h.stack.redis.start();
    }

    // Readiness shows this isolate's fallback counts (the calls above that Redis did not decide).
    const ready = (await (await h.request("/health/ready")).json()) as {
      admission: { live: number; fallback_served: number; fallback_refused: number; fallback_rate: number };
    };
    expect(ready.admission.fallback_served).toBeGreaterThanOrEqual(3);
    expect(ready.admission.fallback_refused).toBeGreaterThanOrEqual(1);
    expect(ready.admission.fallback_rate).toBeGreaterThan(0);
    expect(ready.admission.fallback_rate).toBeLessThan(1);

    // Back: live admission again, and the replay moves pending usage into the stream.
    expect((await h.request("/test/billable", bearer(pro.token))).status).toBe(200);
    const first = await replayPendingUsage({ db: h.db, redis: h.redis });
    expect(first).toMatchObject({ claimed: 3, appended: 3, duplicates: 0, failed: 0 });
    const again = await replayPendingUsage({ db: h.db, redis: h.redis });
    expect(again.claimed).toBe(0);
    expect((await pendingRows(pro.id)).every((r) => r.replayed_at !== null)).toBe(true);

    const replayed = (await usageStream(h)).filter((r) => r.subject === pro.id && r.source === "replay");
    expect(replayed.map((r) => [r.kind, r.units]).sort()).toEqual([
      ["admit", "1"],
      ["admit", "1"],
      ["compensate", "-1"],
    ]);
    const stored = await pendingRows(pro.id);
    expect(new Set(replayed.map((r) => `${r.id}:${r.kind}`))).toEqual(
      new Set(stored.map((r) => `${r.id}:${r.kind}`)),
    );
  });

  it("token exchange keeps working (its per-IP limit fails open); sign-ups wait with 503", async () => {
    const pro = await h.account("pro");
    const from = { "CF-Connecting-IP": "192.0.2.50" };
    await h.stack.redis.stop();
    try {
      const minted = await h.request("/v1/token", {
        method: "POST",
        headers: { Authorization: `Bearer ${pro.apiKey}`, ...from },
      });
      expect(minted.status).toBe(200);
      expect(minted.headers.get("RateLimit-Policy")).toBeNull();

      const signup = await h.request("/v1/signup", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...from },
        body: JSON.stringify({ email: `outage-${Date.now()}@example.com` }),
      });
      expect(signup.status).toBe(503);
      expect(signup.headers.get("Retry-After")).toBe("5");
      expect(await problemOf(signup)).toMatchObject({ code: "DEPENDENCY_UNAVAILABLE" });
    } finally {
      await h.stack.redis.start();
    }
  });

  it("a replay that crashed after appending (rows not marked) appends nothing twice", async () => {
    const pro = await h.account("pro");
    await h.stack.redis.stop();
    try {
      expect((await h.request("/test/billable", bearer(pro.token))).status).toBe(200);
      await h.settle();
    } finally {
      await h.stack.redis.start();
    }
    const [row] = await pendingRows(pro.id);
    // Simulate the crash: append as the replayer would, then lose the "replayed" mark.
    expect(
      await h.redis.appendUsage(
        {
          id: row!.id,
          kind: "admit",
          requestId: "r",
          subject: pro.id,
          stripeCustomerId: null,
          tier: "pro",
          units: 1,
          occurredAtMs: Date.now(),
        },
        "replay",
      ),
    ).toBe(true);
    const result = await replayPendingUsage({ db: h.db, redis: h.redis });
    expect(result).toMatchObject({ claimed: 1, appended: 0, duplicates: 1 });
    expect((await usageStream(h)).filter((r) => r.id === row!.id)).toHaveLength(1);
  });

  it("while Redis is still down, replay leaves the rows pending for a later run", async () => {
    const pro = await h.account("pro");
    await h.stack.redis.stop();
    try {
      expect((await h.request("/test/billable", bearer(pro.token))).status).toBe(200);
      await h.settle();
      const result = await replayPendingUsage({ db: h.db, redis: h.redis }, { leaseSeconds: 1 });
      expect(result.appended).toBe(0);
      expect(result.failed).toBeGreaterThanOrEqual(1);
      expect((await pendingRows(pro.id)).map((r) => [r.kind, r.replayed_at])).toEqual([["admit", null]]);
    } finally {
      await h.stack.redis.start();
    }
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the lease runs out
    const result = await replayPendingUsage({ db: h.db, redis: h.redis });
    expect(result.appended).toBeGreaterThanOrEqual(1);
    const [row, ...others] = await pendingRows(pro.id);
    expect(others).toEqual([]);
    expect(row?.replayed_at).not.toBeNull();
    expect((await usageStream(h)).filter((r) => r.id === row?.id && r.source === "replay")).toHaveLength(1);
  });
});

describe("Redis slow (never answers)", () => {
  it("gives up after ADMISSION_TIMEOUT_MS: pro is served fast, free refused fast", async () => {
    const pro = await h.account("pro");
    const free = await h.account("free");
    // The production default budget (50 ms) against a Redis that never answers.
    const slow = { ...h.env, UPSTASH_REDIS_REST_URL: blackHoleUrl, ADMISSION_TIMEOUT_MS: "50" };
    const timed = async (token: string) => {
      const started = performance.now();
      const response = await h.request("/test/billable", bearer(token), slow);
      return { status: response.status, ms: performance.now() - started };
    };
    await timed(pro.token); // first use of this configuration builds its services
    const served = await timed(pro.token);
    expect(served.status).toBe(200);
    expect(served.ms).toBeLessThan(250);
    const refused = await timed(free.token);
    expect(refused.status).toBe(503);
    expect(refused.ms).toBeLessThan(250);
    await h.settle();
    expect((await pendingRows(pro.id)).filter((r) => r.kind === "admit")).toHaveLength(2);
  });

  it("fail-closed tiers are configurable (ADMISSION_FAIL_CLOSED_TIERS)", async () => {
    const pro = await h.account("pro");
    const free = await h.account("free");
    const strict = {
      ...h.env,
      UPSTASH_REDIS_REST_URL: blackHoleUrl,
      ADMISSION_TIMEOUT_MS: "50",
      ADMISSION_FAIL_CLOSED_TIERS: "free,pro",
    };
    expect((await h.request("/test/billable", bearer(pro.token), strict)).status).toBe(503);
    const lenient = {
      ...h.env,
      UPSTASH_REDIS_REST_URL: blackHoleUrl,
      ADMISSION_TIMEOUT_MS: "50",
      ADMISSION_FAIL_CLOSED_TIERS: ",",
    };
    expect((await h.request("/test/billable", bearer(free.token), lenient)).status).toBe(200);
  });
});
