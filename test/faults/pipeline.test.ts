/**
 * Fault suite, part 1 (also in `npm test`: one stack, about 15 s): Redis blocked by a busy script
 * while admissions time out (issue 15's reproduction 1), poison entries of every kind in the usage
 * stream (2, 3), Redis killed and restarted (also in the middle of a flush), Stripe failing in
 * every way the fake can, and two flushers at once. After each: units billed = units answered 2xx,
 * per customer in the ledger's buckets, Stripe's totals the same, and the reconciliation balanced on both checks. Part 2
 * (outages.test.ts, `npm run test:faults`) stops Postgres, kills the Worker and adds latency.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USAGE_DEAD_LETTER_KEY, USAGE_STREAM_KEY } from "../../src/metering/scripts/keys";
import { plain } from "../integration/harness/access";
import { appendRawUsage } from "../support/raw-redis";
import { blockRedis, type Call, type FaultHarness, isSuccess, sleep, startFaultHarness } from "./harness";
import { printSummary } from "./summary";

/** A paying tier small enough that a burst fills it; fail-open like every paying tier. */
const TIERS = {
  free: { limit: 5, windowSeconds: 10 },
  pro: { limit: 10_000, windowSeconds: 10 },
  tight: { limit: 3, windowSeconds: 10 },
  closed: { limit: 3, windowSeconds: 10 },
  // Fail-closed too, with room: the outage scenario's paying tier that is refused while Redis is down.
  closed_roomy: { limit: 10_000, windowSeconds: 10 },
};

let h: FaultHarness;

beforeAll(async () => {
  h = await startFaultHarness({
    // "closed": a paying tier refused (503) when admission times out, so every call of a blocked
    // moment is refused while its script still admits in Redis: the refusals must be compensated.
    env: { RATE_LIMIT_TIERS: JSON.stringify(TIERS), ADMISSION_FAIL_CLOSED_TIERS: "free,closed,closed_roomy" },
  });
});
afterAll(async () => {
  printSummary("pipeline faults (test/faults/pipeline.test.ts)");
  await h?.stop();
});

const appendRaw = (customer: string, overrides: Record<string, string>) =>
  appendRawUsage(h, customer, overrides);

describe("fault suite: the pipeline", () => {
  it("reproduction 1: Redis blocked by a busy script; refusals after timed-out admissions are not billed", async () => {
    const calls: Call[] = [];
    const tight = await h.payingAccount("tight");
    const env = { ...h.env, ADMISSION_TIMEOUT_MS: "50" };
    // Redis says 2 of 3 are left; then it is blocked: every admission times out, the fallback
    // spends what Redis said was left and refuses the rest (429), and all ten scripts run in Redis
    // once it is free, where the window still has room for two: those two are admitted there.
    expect((await h.validate(tight, calls, { env })).status).toBe(200);
    const blocked = blockRedis(h, 600);
    await sleep(50);
    await Promise.all(Array.from({ length: 10 }, () => h.validate(tight, calls, { env })));
    await blocked;
    await h.settle();
    const statuses = calls.slice(1).map((call) => call.status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(8);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
    // Fail-closed: all ten refused (503) while Redis admits two of their scripts afterwards.
    const closed = await h.payingAccount("closed");
    expect((await h.validate(closed, calls, { env })).status).toBe(200);
    const blockedAgain = blockRedis(h, 600);
    await sleep(50);
    const refused = await Promise.all(Array.from({ length: 10 }, () => h.validate(closed, calls, { env })));
    await blockedAgain;
    await h.settle();
    expect(refused.map((call) => call.status)).toEqual(Array(10).fill(503));
    // The live call and two of the refused ones were admitted in Redis: two records to compensate.
    const entries = plain(await h.redisCommand("XRANGE", USAGE_STREAM_KEY, "-", "+")) as [string, string[]][];
    const admits = entries
      .map(([, fields]) => Object.fromEntries(fields.flatMap((v, i) => (i % 2 ? [] : [[v, fields[i + 1]]]))))
      .filter((fields) => fields.stripe_customer_id === closed.customer && fields.kind === "admit");
    expect(admits).toHaveLength(3);
    // More load on a healthy Redis after the block, with enrichment (2 units).
    const pro = await h.payingAccount("pro");
    for (let i = 0; i < 10; i++) await h.validate(pro, calls, { enrich: i % 2 === 0 });
    await h.expectBilledAsAnswered("redis blocked (busy script)", calls, {
      note: "ADMISSION_TIMEOUT_MS=50, Redis blocked 600 ms twice, 10 concurrent calls each on a 3/10 s tier (fail-open: 429s, fail-closed: 503s)",
    });
  });

  it("reproductions 2 and 3: poison entries of every kind are dead-lettered and never stall the rest", async () => {
    const calls: Call[] = [];
    const account = await h.payingAccount();
    for (let i = 0; i < 5; i++) await h.validate(account, calls);
    {
      const poison = [
        await appendRaw(account.customer, { ts: "+010000-01-01T00:00:00Z" }),
        await appendRaw(account.customer, { subject: "acct\u0000x" }),
        await appendRaw(account.customer, { request_id: `x${"y".repeat(300)}` }),
        await appendRaw(account.customer, { units: "999999999" }),
        await appendRaw(account.customer, { units: "999999999" }),
        await appendRaw(account.customer, { units: "999999999" }),
        await appendRaw(account.customer, { units: "1.5" }),
        await appendRaw(account.customer, { kind: "compensate", units: "1" }),
        // A date that does not exist (Postgres would have refused it; the drain never lets it in).
        await appendRaw(account.customer, { ts: "2026-02-30T10:00:00.000Z" }),
      ];
      for (let i = 0; i < 5; i++) await h.validate(account, calls, { enrich: true });
      await h.settle();
      const report = await h.flush();
      expect(report).toMatchObject({ poison: poison.length, stopped: "drained", errors: [] });
      const dead = plain(await h.redisCommand("XRANGE", USAGE_DEAD_LETTER_KEY, "-", "+")) as [
        string,
        string[],
      ][];
      const deadIds = dead.map(([, fields]) => fields[fields.indexOf("entry_id") + 1]);
      expect(deadIds.sort()).toEqual([...poison].sort());
    }
    await h.expectBilledAsAnswered("poison entries", calls, {
      note: "9 poison entries: 5-digit year, NUL, 301-char id, 3 x 999,999,999 units, 1.5 units, positive compensation, 30 February",
    });
  });

  it("Stripe failing: 500, 429 with Retry-After, 503, timeouts before and after processing", async () => {
    const calls: Call[] = [];
    const accounts = [await h.payingAccount(), await h.payingAccount(), await h.payingAccount()];
    for (let round = 0; round < 4; round++) {
      for (const account of accounts) await h.validate(account, calls, { enrich: round === 1 });
    }
    h.stack.stripe.failNext(1, { status: 500 }, "/v1/billing/meter_events");
    h.stack.stripe.failNext(1, { status: 429, retryAfterSeconds: 0 }, "/v1/billing/meter_events");
    h.stack.stripe.failNext(1, "timeout-after-processing", "/v1/billing/meter_events");
    h.stack.stripe.failNext(1, { status: 503 }, "/v1/billing/meter_events");
    h.stack.stripe.failNext(1, "timeout", "/v1/billing/meter_events");
    await h.settle();
    const first = await h.flush();
    expect(first.sent).toBeLessThan(accounts.length);
    await h.expectBilledAsAnswered("stripe failing", calls, {
      note: "500, 429, 503, timeout, timeout after processing (resent, deduplicated by identifier)",
    });
    expect(h.stack.stripe.pendingFailures()).toBe(0);
  });

  it("Redis killed and restarted, once in the middle of a flush", async () => {
    const calls: Call[] = [];
    const pro = await h.payingAccount("pro");
    const closed = await h.payingAccount("closed_roomy");
    for (let i = 0; i < 5; i++) {
      await h.validate(pro, calls, { enrich: i % 2 === 0 });
      await h.validate(closed, calls);
    }
    await h.settle();
    // Redis killed right after the first chunk of the stream was drained into buckets, before
    // they were sealed and moved to Postgres.
    let killed = false;
    await h.flush(
      {},
      {
        hooks: {
          afterDrain: async () => {
            if (killed) return;
            killed = true;
            await h.stack.redis.stop();
          },
        },
      },
    );
    expect(killed).toBe(true);
    try {
      // Down: the paying tier is served (recorded in Postgres), the fail-closed one refused.
      for (let i = 0; i < 5; i++) {
        expect((await h.validate(pro, calls)).status).toBe(200);
        expect((await h.validate(closed, calls)).status).toBe(503);
      }
      await h.settle();
      expect((await h.flush()).errors.length).toBeGreaterThan(0);
    } finally {
      await h.stack.redis.start();
    }
    // The failed run's replay leased the Postgres records for 60 s (then any run retries them): end
    // that lease now rather than wait.
    await h.sql.query("update public.pending_usage set claimed_until = null where replayed_at is null");
    for (let i = 0; i < 3; i++) await h.validate(pro, calls);
    const reports = await h.drain();
    expect(reports.some((report) => (report.replay?.appended ?? 0) > 0)).toBe(true);
    await h.expectBilledAsAnswered("redis killed and restarted", calls, {
      note: "killed mid-flush (after a drain, before seal and move) and under traffic; fail-open served, fail-closed 503",
    });
  });

  it("two flushers at once bill every record once", async () => {
    const calls: Call[] = [];
    const accounts = await Promise.all(Array.from({ length: 4 }, () => h.payingAccount()));
    await Promise.all(
      accounts.map(async (account, i) => {
        for (let n = 0; n < 25; n++) await h.validate(account, calls, { enrich: (n + i) % 3 === 0 });
      }),
    );
    await h.settle();
    // Small chunks so both runs interleave on the stream and the ledger.
    const runs = await Promise.all([h.flush({ maxRecords: 20 }), h.flush({ maxRecords: 20 })]);
    expect(runs.reduce((sum, run) => sum + run.ingested, 0)).toBeGreaterThan(0);
    await h.expectBilledAsAnswered("two flushers at once", calls, { note: "4 customers, 2 concurrent runs" });
    expect(calls.every(isSuccess)).toBe(true);
  });
});
