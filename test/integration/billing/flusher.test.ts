/**
 * The usage flusher against real Redis (AOF), real Postgres and the fake Stripe. Every scenario
 * ends with the reconciliation identity holding and the units Stripe accepted equal to the units
 * admitted minus compensated, exactly (`expectExactlyBilled`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type BillingHarness,
  batchStatuses,
  METER_EVENTS_PATH,
  meterEventPosts,
  startBillingHarness,
} from "../harness/billing";

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
});

describe("a normal run", () => {
  it("reports one netted meter event per customer, skips free usage, and empties the stream", async () => {
    const [a, b, c] = [h.customer(), h.customer(), h.customer()];
    await h.admit(a, 40);
    const refunded = await h.admit(b, 25, 2);
    await h.admit(c, 3);
    await h.admit("", 10); // free tier: nobody to bill
    // Three of b's requests ended in a 5xx: compensated, so never billed.
    for (const record of refunded.slice(0, 3)) await h.compensate(record);

    const report = await h.flush();
    expect(report).toMatchObject({
      read: 40 + 25 + 3 + 10 + 3,
      ingested: 40 + 25 + 3 + 3,
      free_skipped: 10,
      poison: 0,
      batches_formed: 3,
      sent: 3,
      units_sent: 40 + 44 + 3,
      dead_lettered: 0,
      stopped: "drained",
    });
    expect(h.stack.stripe.meterEvents()).toHaveLength(3);
    expect(await h.xlen("sm:usage-stream")).toBe(0);

    // A second run finds nothing and sends nothing.
    const again = await h.flush();
    expect(again).toMatchObject({ read: 0, batches_formed: 0, events_attempted: 0 });
    await h.expectExactlyBilled();
    expect(h.expected()).toEqual({ [a]: 40, [b]: 44, [c]: 3 });
  });

  it("holds records younger than the settle time, then nets a late compensation into the same batch", async () => {
    const a = h.customer();
    const [first] = await h.admit(a, 2);
    // Younger than the settle time: left in the stream, so nothing is counted or sent yet.
    const early = await h.flush({ settleSeconds: 60 });
    expect(early).toMatchObject({ read: 0, ingested: 0, batches_formed: 0, sent: 0 });
    expect(await h.xlen("sm:usage-stream")).toBe(2);
    await h.compensate(first!);
    await h.expectExactlyBilled();
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 1 });
    // One batch of all three records (two admissions, one compensation), sent as one event of 1.
    const { rows: batches } = await h.sql.query(
      "select id, status, units::integer as units, record_count from public.usage_batches",
    );
    expect(batches).toEqual([{ id: expect.any(String), status: "sent", units: 1, record_count: 3 }]);
    expect(h.stack.stripe.meterEvents()).toEqual([
      expect.objectContaining({ identifier: batches[0].id, customer: a, value: 1 }),
    ]);
    expect(meterEventPosts(h)).toHaveLength(1);
  });

  it("dead-letters malformed stream entries instead of dropping them", async () => {
    const a = h.customer();
    await h.admit(a, 2);
    await h.redisCommand("XADD", "sm:usage-stream", "*", "id", "bad", "kind", "admit", "units", "x");
    const report = await h.flush();
    expect(report.poison).toBe(1);
    expect(await h.xlen("sm:usage-dead-letter")).toBe(1);
    await h.expectExactlyBilled();
  });
});

describe("Stripe failing", () => {
  it("retries over several runs, opens the shared breaker, lets one probe through, and recovers", async () => {
    const customers = [h.customer(), h.customer(), h.customer(), h.customer()];
    for (const customer of customers) await h.admit(customer, 5);
    h.stack.stripe.failNext(4, { status: 500 }, METER_EVENTS_PATH);

    // Run 1: all four batches fail (one concurrent round); threshold 3 -> the breaker opens.
    const first = await h.flush();
    expect(first).toMatchObject({ events_attempted: 4, retried: 4, sent: 0, stopped: "stripe_failing" });
    expect(first.breaker).toBe("open");
    // Run 2, while open: nothing is sent at all.
    const second = await h.flush();
    expect(second).toMatchObject({ events_attempted: 0, stopped: "breaker_open" });

    // After the open period, exactly one probe goes through; it fails (Stripe still down).
    h.stack.stripe.failNext(1, "timeout", METER_EVENTS_PATH);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [probeRun, concurrentRun] = await Promise.all([h.flush(), h.flush()]);
    expect(probeRun.events_attempted + concurrentRun.events_attempted).toBe(1);
    expect(h.stack.stripe.pendingFailures()).toBe(0);

    // Next probe succeeds: the breaker closes and the rest is sent in the same run.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const recovered = await h.flush();
    expect(recovered.sent).toBe(4);
    expect(recovered.breaker).toBe("closed");
    const ready = await h.redis.stripeBreaker({
      op: "state",
      nowMs: Date.now(),
      token: "t",
      failureThreshold: 3,
      openMs: 1000,
      probeLeaseMs: 1000,
    });
    expect(ready.state).toBe("closed");
    await h.expectExactlyBilled();
  });

  it("the shared breaker lets exactly one of many concurrent callers probe", async () => {
    const command = (token: string, op: "acquire" | "failure" | "success") =>
      h.redis.stripeBreaker({
        op,
        nowMs: Date.now(),
        token,
        failureThreshold: 2,
        openMs: 300,
        probeLeaseMs: 5000,
      });
    await command("a", "failure");
    expect((await command("a", "failure")).state).toBe("open");
    expect((await command("b", "acquire")).verdict).toBe("refused");
    await new Promise((resolve) => setTimeout(resolve, 350));
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => command(`c${i}`, "acquire")));
    const probes = verdicts.filter((reply) => reply.verdict === "probe");
    expect(probes).toHaveLength(1);
    expect(verdicts.filter((reply) => reply.verdict === "refused")).toHaveLength(19);
    // A success reported by a caller that is not the probe does not close it; the probe's does.
    const probe = `c${verdicts.findIndex((reply) => reply.verdict === "probe")}`;
    expect((await command("someone-else", "success")).state).toBe("half_open");
    expect((await command(probe, "success")).state).toBe("closed");
    expect((await command("d", "acquire")).verdict).toBe("allowed");
  });

  it("honours Retry-After on 429 and stops the run", async () => {
    const a = h.customer();
    await h.admit(a, 7);
    h.stack.stripe.failNext(1, { status: 429, retryAfterSeconds: 2 }, METER_EVENTS_PATH);
    const limited = await h.flush();
    expect(limited).toMatchObject({ retried: 1, stopped: "rate_limited" });
    // Not due yet: the next run does not resend.
    expect((await h.flush()).events_attempted).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await h.flush()).sent).toBe(1);
    await h.expectExactlyBilled();
  });
});

describe("a run that dies", () => {
  it("after Stripe accepted a batch but before recording it: resent with the same identifier, billed once", async () => {
    const [a, b] = [h.customer(), h.customer()];
    await h.admit(a, 10);
    await h.admit(b, 4);
    const crash = new Error("worker killed");
    const dies = { afterAccepted: () => Promise.reject(crash) };
    await expect(h.flush({}, dies, { leaseSeconds: 1 })).rejects.toBe(crash);
    // Stripe has both events; the ledger still says pending (leased by the dead run).
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 10, [b]: 4 });
    expect(await batchStatuses(h)).toEqual({ pending: 2 });

    // The dead run's lease (a second here) must run out first: until then nobody resends.
    expect((await h.flush()).events_attempted).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const next = await h.flush();
    expect(next).toMatchObject({ sent: 0, already_accepted: 2, units_sent: 14 });
    await h.expectExactlyBilled({ resent: 2 });
  });

  it("when Stripe processed the event but the answer was lost (timeout after processing)", async () => {
    const a = h.customer();
    await h.admit(a, 9);
    h.stack.stripe.failNext(1, "timeout-after-processing", METER_EVENTS_PATH);
    const lost = await h.flush();
    expect(lost).toMatchObject({ retried: 1, sent: 0 });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 9 });
    const retried = await h.flush();
    expect(retried).toMatchObject({ already_accepted: 1 });
    await h.expectExactlyBilled({ resent: 1 });
  });

  it("after sealing buckets but before moving them to Postgres: moved by the next run, counted once", async () => {
    const a = h.customer();
    await h.admit(a, 12);
    await expect(
      h.flush(
        {},
        {
          afterSeal: () => {
            throw new Error("worker killed");
          },
        },
      ),
    ).rejects.toThrow("worker killed");
    // Drained into a sealed bucket that is still listed in Redis; nothing in Postgres yet.
    expect(await h.xlen("sm:usage-stream")).toBe(0);
    expect(Number((await h.sql.query("select count(*) as n from public.usage_buckets")).rows[0].n)).toBe(0);
    const next = await h.flush();
    expect(next).toMatchObject({ read: 0, buckets_moved: 1, sent: 1, units_sent: 12 });
    await h.expectExactlyBilled();
  });

  it("after moving buckets to Postgres but before deleting them in Redis: moved again as a no-op", async () => {
    const a = h.customer();
    await h.admit(a, 7);
    await expect(
      h.flush(
        {},
        {
          afterMove: () => {
            throw new Error("worker killed");
          },
        },
      ),
    ).rejects.toThrow("worker killed");
    expect(Number((await h.sql.query("select count(*) as n from public.usage_buckets")).rows[0].n)).toBe(1);
    const next = await h.flush();
    // The same sealed bucket went to Postgres again: its seal id made that a no-op.
    expect(next).toMatchObject({ read: 0, buckets_sealed: 0, buckets_moved: 0, sent: 1, units_sent: 7 });
    expect(Number((await h.sql.query("select count(*) as n from public.usage_buckets")).rows[0].n)).toBe(1);
    expect(await h.redisCommand("ZCARD", "sm:bkt-sealed")).toMatchObject({ value: 0 });
    await h.expectExactlyBilled();
  });
});

describe("Redis restarting", () => {
  it("loses nothing across a restart (durable Redis: AOF here, Upstash in production)", async () => {
    const [a, b] = [h.customer(), h.customer()];
    await h.admit(a, 30);
    await h.flush();
    await h.admit(a, 20);
    await h.admit(b, 15);
    // Ten entries drained into a bucket by a run that then died, and then Redis restarts.
    await expect(
      h.flush(
        { maxRecords: 10 },
        {
          afterDrain: () => {
            throw new Error("worker killed");
          },
        },
      ),
    ).rejects.toThrow();
    await h.stack.redis.stop();
    await h.stack.redis.start();
    const after = await h.flush();
    expect(after.read).toBe(25);
    await h.expectExactlyBilled();
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 50, [b]: 15 });
  });

  it("keeps sending from the ledger while Redis is down, and resumes the stream when it is back", async () => {
    const a = h.customer();
    await h.admit(a, 8);
    // In Postgres but not sent yet: Stripe failed this run's event, so its batch waits for a retry.
    h.stack.stripe.failNext(1, { status: 500 }, METER_EVENTS_PATH);
    const held = await h.flush();
    expect(held).toMatchObject({ ingested: 8, batches_formed: 1, retried: 1, sent: 0 });
    expect(await h.xlen("sm:usage-stream")).toBe(0);
    h.stack.stripe.clearRequests();
    await h.admit(a, 5); // stays in the stream while Redis is down
    await h.stack.redis.stop();
    try {
      const down = await h.flush();
      expect(down).toMatchObject({
        read: 0,
        ingested: 0,
        batches_formed: 0,
        sent: 1,
        units_sent: 8,
        stream_backlog: true,
      });
      expect(down.errors.join(" ")).toMatch(/stream drain/);
      expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 8 });
      expect(meterEventPosts(h)).toHaveLength(1);
    } finally {
      await h.stack.redis.start();
    }
    await h.expectExactlyBilled();
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 13 });
    expect(await batchStatuses(h)).toEqual({ sent: 2 });
  });

  it("carries on after Redis lost everything (what was drained is safe in Postgres)", async () => {
    const a = h.customer();
    await h.admit(a, 3);
    await h.flush();
    await h.redisCommand("FLUSHALL"); // a non-durable Redis restarting
    await h.admit(a, 4);
    await h.expectExactlyBilled();
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [a]: 7 });
  });
});

describe("two flushers at once", () => {
  it("never count an entry twice: each drain, seal and move is atomic or idempotent", async () => {
    const customers = Array.from({ length: 12 }, () => h.customer());
    const all = [];
    for (const [i, customer] of customers.entries()) all.push(...(await h.admit(customer, 20 + i)));
    const compensated = all.filter((_, i) => i % 17 === 0);
    for (const record of compensated) await h.compensate(record);
    const counted = async () =>
      (
        await h.sql.query<{ records: number; admitted: number; compensated: number }>(
          `select coalesce(sum(records), 0)::integer as records, coalesce(sum(admitted), 0)::integer as admitted,
             coalesce(sum(compensated), 0)::integer as compensated from public.usage_buckets`,
        )
      ).rows[0];

    // Three runs at once, in small budgets, so they interleave drains, seals and moves.
    const runs = await Promise.all([
      h.flush({ maxRecords: 120 }),
      h.flush({ maxRecords: 120 }),
      h.flush({ maxRecords: 120 }),
    ]);
    // Each entry was drained by exactly one run.
    expect(runs.reduce((sum, run) => sum + run.ingested + run.duplicates, 0)).toBe(
      runs.reduce((sum, run) => sum + run.read, 0),
    );
    expect(runs.reduce((sum, run) => sum + run.duplicates, 0)).toBe(0);
    expect(runs.reduce((sum, run) => sum + run.already_accepted, 0)).toBe(0);
    await h.expectExactlyBilled();
    expect(await counted()).toEqual({
      records: all.length + compensated.length,
      admitted: all.reduce((sum, record) => sum + record.units, 0),
      compensated: compensated.reduce((sum, record) => sum + record.units, 0),
    });
    const sentIds = h.stack.stripe.meterEvents().map((event) => event.identifier);
    // Every meter-event request named a distinct batch: the lease kept flushers off each other's batches.
    expect(meterEventPosts(h)).toHaveLength(sentIds.length);
  });
});

describe("an unknown customer", () => {
  it("is dead-lettered with the reason; other customers are unaffected", async () => {
    const [a, b] = [h.customer(), h.customer()];
    await h.admit(a, 6);
    await h.admit("cus_doesnotexist", 4);
    await h.admit(b, 2);
    const report = await h.flush();
    expect(report).toMatchObject({ sent: 2, dead_lettered: 1 });
    const reconciliation = await h.expectExactlyBilled({ dead: { cus_doesnotexist: 4 } });
    expect(reconciliation.dead_letters).toEqual([
      expect.objectContaining({
        stripe_customer_id: "cus_doesnotexist",
        units: 4,
        reason: expect.stringMatching(/resource_missing.*cus_doesnotexist/),
      }),
    ]);
    expect(reconciliation.totals).toMatchObject({ admitted: 12, reported: 8, dead_lettered: 4, pending: 0 });
  });
});
