/**
 * The rate-limit window in fixed state (src/metering/scripts/rate-window.ts), driven through the
 * admission script on a virtual clock with more distinct admission times than the window keeps
 * runs, so that runs are merged: it never admits more than the limit in any window, it counts
 * every unit at least one window and at most the stated bound beyond, its state stays at most
 * WINDOW_RUNS runs, and the 429's reset is exact (refused 1 ms before it, admitted at it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WINDOW_RUNS } from "../../../src/metering/scripts/rate-window";
import { windowRuns } from "../../support/raw-redis";
import { type AccessHarness, startAccessHarness } from "../harness/access";

let h: AccessHarness;
beforeAll(async () => {
  h = await startAccessHarness();
});
afterAll(async () => {
  await h?.stop();
});

const LIMIT = 100;
const WINDOW_MS = 10_000;
/** The stated bound: a unit counts at most this long past `admitted + window`. */
const BOUND_MS = (2 * WINDOW_MS) / (WINDOW_RUNS - 2);
const tiers = { metered: { limit: LIMIT, windowSeconds: WINDOW_MS / 1000 } };

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const admitAt = (subject: string, nowMs: number, units: number, limit = LIMIT) =>
  h.redis.admitUsage({
    usageId: `u_${crypto.randomUUID().replaceAll("-", "")}`,
    requestId: "rate-window",
    subject,
    apiKeyId: null,
    stripeCustomerId: null,
    tier: "metered",
    units,
    nowMs,
    tiers: limit === LIMIT ? tiers : { metered: { limit, windowSeconds: WINDOW_MS / 1000 } },
  });

describe("rate window in fixed state", () => {
  it("never admits more than the limit in any window, within the bound, in at most WINDOW_RUNS runs", async () => {
    const { id: subject } = await h.account("free");
    const next = random(22);
    const admitted: { atMs: number; cost: number }[] = [];
    /** Units of this test's own admissions in (fromMs, toMs]: what an exact log would hold. */
    const exact = (fromMs: number, toMs: number) =>
      admitted.filter((a) => a.atMs > fromMs && a.atMs <= toMs).reduce((sum, a) => sum + a.cost, 0);
    const admit = (nowMs: number, units: number) => admitAt(subject, nowMs, units);
    let nowMs = Date.now();
    let merged = false;
    let refused = 0;
    for (let call = 0; call < 1200; call++) {
      // About 1.5 times the limit on average, in bursts (a quarter arrive in the same millisecond).
      nowMs += next() < 0.25 ? 0 : Math.floor(next() * 260);
      const cost = 1 + Math.floor(next() * 3);
      const reply = await admit(nowMs, cost);
      if (reply.status !== "admitted" && reply.status !== "rate_limited") throw new Error(reply.status);
      const used = LIMIT - reply.remaining - (reply.status === "admitted" ? cost : 0);
      // Every unit counts at least one window, and at most BOUND_MS longer.
      expect(used).toBeGreaterThanOrEqual(exact(nowMs - WINDOW_MS, nowMs));
      expect(used).toBeLessThanOrEqual(exact(nowMs - WINDOW_MS - BOUND_MS, nowMs));
      if (reply.status === "admitted") {
        expect(exact(nowMs - WINDOW_MS, nowMs) + cost).toBeLessThanOrEqual(LIMIT);
        admitted.push({ atMs: nowMs, cost });
      } else {
        refused++;
        expect(reply.resetMs).toBeGreaterThan(0);
        expect(reply.resetMs).toBeLessThanOrEqual(WINDOW_MS);
      }
      if (call % 10 === 0) {
        const runs = await windowRuns(h, subject);
        expect(runs.length).toBeLessThanOrEqual(WINDOW_RUNS);
        merged ||= runs.some((run) => run.spanMs > 0);
      }
    }
    // The run exercised what it is about: merged runs, and refusals.
    expect(merged).toBe(true);
    expect(refused).toBeGreaterThan(100);

    // The reset is exact for the state: fill the window, then 1 ms before the reset is still 429.
    let reply = await admit(nowMs, 1);
    while (reply.status === "admitted") reply = await admit(nowMs, 1);
    expect(reply.status).toBe("rate_limited");
    const resetMs = (reply as { resetMs: number }).resetMs;
    expect((await admit(nowMs + resetMs - 1, 1)).status).toBe("rate_limited");
    expect((await admit(nowMs + resetMs, 1)).status).toBe("admitted");
  });

  it("counts a call stamped before the newest run (an isolate's clock behind) from that run's time", async () => {
    const { id: subject } = await h.account("free");
    const t = Date.now();
    expect((await admitAt(subject, t, 1, 2)).status).toBe("admitted");
    expect((await admitAt(subject, t - 40, 1, 2)).status).toBe("admitted");
    expect(await windowRuns(h, subject)).toEqual([{ atMs: t, units: 2, spanMs: 0 }]);
    // Both leave at t + window (the late-stamped one no earlier): stricter, never looser.
    const refused = await admitAt(subject, t + WINDOW_MS - 1, 1, 2);
    expect(refused).toMatchObject({ status: "rate_limited", remaining: 0, resetMs: 1 });
    expect((await admitAt(subject, t + WINDOW_MS, 1, 2)).status).toBe("admitted");
  });
});
