/**
 * Aggregate before storing (issue 17, item 1; migrations/0017, drain-usage.ts, seal-buckets.ts):
 * usage is drained into per-customer, per-account, per-hour buckets inside Redis and moved to
 * Postgres bucket by bucket, and every exactness rule the row-per-request ledger kept still holds:
 * - Postgres holds buckets, not requests: many records of one customer are one row;
 * - a compensation that arrives after its admission's bucket was sealed and moved is subtracted
 *   exactly once (a new bucket of the same hour), however often the flusher runs;
 * - an uncertain compensation (the Worker never had the admission's answer) nets only an admission
 *   that was counted, and an admission script that only runs after it admits nothing;
 * - a timed-out admission recorded twice (its script's stream entry, and Postgres's pending copy
 *   replayed) is counted once, whichever arrives first, also when the drain meets the stream copy
 *   before the replay ran (the id is "held");
 * - two flushers sealing and moving at once never lose or double a bucket.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { recordPendingUsage } from "../../../src/metering/pending-usage";
import type { UsageRecord } from "../../../src/metering/usage-record";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

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

const bucketRows = async (customer: string) =>
  (
    await h.sql.query<{ admitted: number; compensated: number; orphaned: number; records: number }>(
      `select admitted::integer, compensated::integer, orphaned::integer, records from public.usage_buckets
       where stripe_customer_id = $1 order by ingested_at, id`,
      [customer],
    )
  ).rows;

const uncertainCompensation = (record: UsageRecord) =>
  h.redis.appendUsage({ ...record, kind: "compensate", units: -record.units }, "live", false);

async function flushAll() {
  for (let i = 0; i < 5; i++) {
    const report = await h.flush();
    if (report.read === 0 && report.events_attempted === 0 && report.buckets_sealed === 0) return;
  }
}

describe("usage buckets", () => {
  it("stores one row per customer, account and hour, however many records", async () => {
    const customer = h.customer();
    await h.admit(customer, 250);
    const report = await h.flush();
    expect(report).toMatchObject({ read: 250, ingested: 250, buckets_sealed: 1, buckets_moved: 1, sent: 1 });
    expect(await bucketRows(customer)).toEqual([
      { admitted: 250, compensated: 0, orphaned: 0, records: 250 },
    ]);
    await h.expectExactlyBilled();
  });

  it("a backlog drained over several runs, its hour over, adds to one bucket per customer", async () => {
    const customers = [h.customer(), h.customer(), h.customer()];
    // Records of an hour that ended long ago, waiting in the stream (a drain that fell behind).
    const hourAgo = Date.now() - 2 * 3_600_000;
    for (const customer of customers) {
      for (let i = 0; i < 5; i++) {
        const reply = await h.admitRecord({ ...h.recordOf(customer), occurredAtMs: hourAgo + i });
        expect(reply.status).toBe("admitted");
      }
    }
    const runs = [];
    // Four entries a run: the stream keeps a backlog through three runs.
    for (let i = 0; i < 10; i++) {
      const report = await h.flush({ maxRecords: 4 });
      runs.push(report);
      if (!report.stream_backlog) break;
    }
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.slice(0, -1).every((run) => run.buckets_sealed === 0)).toBe(true);
    await flushAll();
    for (const customer of customers) {
      expect(await bucketRows(customer)).toEqual([{ admitted: 5, compensated: 0, orphaned: 0, records: 5 }]);
    }
    expect(h.stack.stripe.unitsByCustomer()).toMatchObject(Object.fromEntries(customers.map((c) => [c, 5])));
  });

  it("subtracts a compensation that arrives after its bucket was sealed exactly once", async () => {
    const customer = h.customer();
    const records = await h.admit(customer, 5);
    await h.flush();
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [customer]: 5 });
    // The admission's bucket is sealed, in Postgres and sent; its refund comes only now.
    await h.compensate(records[2]!);
    for (let i = 0; i < 3; i++) await h.flush();
    // A new bucket of the same hour carries the subtraction, sent as one negative event.
    expect(await bucketRows(customer)).toEqual([
      { admitted: 5, compensated: 0, orphaned: 0, records: 5 },
      { admitted: 0, compensated: 1, orphaned: 0, records: 1 },
    ]);
    await h.expectExactlyBilled();
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [customer]: 4 });
  });
});

describe("uncertain admissions (the Worker never had the script's answer)", () => {
  it("an uncertain compensation nets an admission that ran, and is an orphan for one that never ran", async () => {
    const customer = h.customer();
    const ran = h.recordOf(customer);
    const never = h.recordOf(customer);
    expect((await h.admitRecord(ran)).status).toBe("admitted");
    // Both calls timed out for the Worker and were refused: compensated as uncertain.
    expect(await uncertainCompensation(ran)).toBe(true);
    expect(await uncertainCompensation(never)).toBe(true);
    await flushAll();
    expect(await bucketRows(customer)).toEqual([{ admitted: 1, compensated: 1, orphaned: 1, records: 3 }]);
    const reconciliation = await h.reconcile(customer);
    expect(reconciliation.totals).toMatchObject({
      admitted: 1,
      compensated: 1,
      orphan_compensations: 1,
      reported: 0,
      pending: 0,
    });
    expect(reconciliation.ledger_balanced).toBe(true);
    expect(h.stack.stripe.unitsByCustomer()[customer] ?? 0).toBe(0);
  });

  it("an admission script that runs only after its uncertain compensation admits nothing", async () => {
    const customer = h.customer();
    const late = h.recordOf(customer);
    expect(await uncertainCompensation(late)).toBe(true);
    // The delayed script finally runs: the marker refuses it, nothing is written.
    await expect(h.admitRecord(late)).rejects.toThrow(/already settled/);
    await flushAll();
    expect(await bucketRows(customer)).toEqual([{ admitted: 0, compensated: 0, orphaned: 1, records: 1 }]);
    expect(h.stack.stripe.unitsByCustomer()[customer] ?? 0).toBe(0);
  });

  it("a timed-out admission in the stream and replayed from Postgres is counted once, in either order", async () => {
    const customer = h.customer();
    // First: the script's copy is in the stream, then the Worker's copy is replayed.
    const first = h.recordOf(customer);
    expect((await h.admitRecord(first)).status).toBe("admitted");
    expect(await recordPendingUsage(h.db, first)).toBe(true);
    // Second: the Worker's copy is replayed first; the delayed script then finds the marker.
    const second = h.recordOf(customer);
    expect(await recordPendingUsage(h.db, second)).toBe(true);
    await h.flush();
    await expect(h.admitRecord(second)).rejects.toThrow(/already settled/);
    await flushAll();
    const reports = await h.reconcile(customer);
    expect(reports.totals).toMatchObject({ admitted: 2, compensated: 0, reported: 2 });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [customer]: 2 });
  });

  it("the drain meeting the script's copy before the replay ran still counts the admission once (held id)", async () => {
    const customer = h.customer();
    const record = h.recordOf(customer);
    expect((await h.admitRecord(record)).status).toBe("admitted");
    expect(await recordPendingUsage(h.db, record)).toBe(true);
    // The replay is leased by a replayer that died, so this run drains the stream copy first.
    await h.sql.query("update public.pending_usage set claimed_until = now() + interval '1 hour'");
    const drained = await h.flush();
    expect(drained).toMatchObject({ read: 1, ingested: 1, replay: { claimed: 0 } });
    await h.sql.query("update public.pending_usage set claimed_until = null");
    const replayed = await h.flush();
    // The marker the drain left refuses the replay's append: a duplicate, never a second unit.
    expect(replayed.replay).toMatchObject({ claimed: 1, appended: 0, duplicates: 1 });
    await flushAll();
    expect((await h.reconcile(customer)).totals).toMatchObject({ admitted: 1, reported: 1 });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [customer]: 1 });
  });
});

describe("concurrent flushers", () => {
  it("seal and move the same buckets at once without losing or doubling one", async () => {
    const customers = Array.from({ length: 30 }, () => h.customer());
    for (const [i, customer] of customers.entries()) await h.admit(customer, 3 + (i % 4));
    // Sealed by one run that died before moving: every run below finds them listed.
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
    const runs = await Promise.all([h.flush(), h.flush(), h.flush()]);
    expect(runs.reduce((sum, run) => sum + run.buckets_moved, 0)).toBe(customers.length);
    await h.expectExactlyBilled();
    const { rows } = await h.sql.query<{ n: number }>(
      "select count(*)::integer as n from public.usage_buckets",
    );
    expect(rows[0]?.n).toBe(customers.length);
  });
});
