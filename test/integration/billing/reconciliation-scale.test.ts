/**
 * The ledger reconciliation (billing_reconciliation, migrations/0018) against real Postgres:
 * - the same answer as 0017's formulation on a mix of every bucket and batch state (sent, netted,
 *   pending, dead, unbatched, orphaned units, a batch whose buckets lie partly outside the range,
 *   a batch whose units disagree with its buckets'), 0017's function re-created from its migration
 *   as a temporary one;
 * - an answer within the bridge's statement timeout (8 s) on 2,000 customers with two buckets each,
 *   on tables Postgres has not analysed: 0017's took 5.9 s for half of that here (its plan grew
 *   with customers²), 0018's reads each bucket and batch once.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
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

const NOVEMBER = { p_from: "2026-11-01T00:00:00Z", p_to: "2026-11-15T00:00:00Z" };

async function batch(id: string, customer: string, units: number, status: string) {
  await h.sql.query(
    `insert into usage_batches (id, stripe_customer_id, period, units, record_count, event_timestamp, status,
       dead_reason, dead_at)
     values ('smu_' || md5($1), $2, '2026-11', $3, 1, '2026-11-02T00:00:00Z', $4,
       case when $4 = 'dead' then 'test' end, case when $4 = 'dead' then now() end)`,
    [id, customer, units, status],
  );
}

async function bucket(
  id: string,
  customer: string,
  startsAt: string,
  units: { admitted: number; compensated?: number; orphaned?: number },
  batchId?: string,
) {
  const { admitted, compensated = 0, orphaned = 0 } = units;
  await h.sql.query(
    `insert into usage_buckets (id, stripe_customer_id, subject, starts_at, period, admitted, compensated,
       orphaned, records, first_at, last_at, batch_id)
     values ('smb_test_bucket_' || $1, $2, 'acct-' || $2, $3, '2026-11', $4, $5, $6, $8, $3, $3,
       case when $7::text is null then null else 'smu_' || md5($7) end)`,
    [
      id,
      customer,
      startsAt,
      admitted,
      compensated,
      orphaned,
      batchId ?? null,
      admitted + compensated + orphaned,
    ],
  );
}

/** 0017's billing_reconciliation, as its migration defined it, under another name in pg_temp. */
async function createFormerReconciliation() {
  const migration = readFileSync(
    join(import.meta.dirname, "../../../migrations/0017_usage_buckets.sql"),
    "utf8",
  );
  const start = migration.indexOf("create or replace function public.billing_reconciliation(");
  const end = migration.indexOf("$$;", start) + 3;
  expect(start).toBeGreaterThan(0);
  await h.sql.query(
    migration
      .slice(start, end)
      .replace("public.billing_reconciliation(", "pg_temp.billing_reconciliation_0017("),
  );
}

describe("billing_reconciliation", () => {
  it("answers as 0017's formulation did, on every state of buckets and batches", async () => {
    await batch("a1", "cus_a", 5, "sent");
    await bucket("a1_one", "cus_a", "2026-11-02T10:00:00Z", { admitted: 4 }, "a1");
    await bucket("a1_two", "cus_a", "2026-11-02T11:00:00Z", { admitted: 2, compensated: 1 }, "a1");
    await bucket("a_unbatched", "cus_a", "2026-11-03T10:00:00Z", { admitted: 3 });
    await bucket("a_orphans", "cus_a", "2026-11-03T11:00:00Z", { admitted: 1, orphaned: 2 });
    await batch("b_dead", "cus_b", 7, "dead");
    await bucket("b_dead", "cus_b", "2026-11-02T10:00:00Z", { admitted: 7 }, "b_dead");
    await batch("b_pending", "cus_b", 2, "pending");
    await bucket("b_pending", "cus_b", "2026-11-02T11:00:00Z", { admitted: 2 }, "b_pending");
    await batch("b_netted", "cus_b", 0, "netted");
    await bucket("b_netted", "cus_b", "2026-11-02T12:00:00Z", { admitted: 1, compensated: 1 }, "b_netted");
    // A batch of 10 units whose buckets hold 9, one of them after the range.
    await batch("c1", "cus_c", 10, "sent");
    await bucket("c1_in", "cus_c", "2026-11-05T10:00:00Z", { admitted: 6 }, "c1");
    await bucket("c1_after", "cus_c", "2026-11-20T10:00:00Z", { admitted: 3 }, "c1");
    // Only after the range: no row.
    await batch("d1", "cus_d", 4, "sent");
    await bucket("d1", "cus_d", "2026-11-21T10:00:00Z", { admitted: 4 }, "d1");

    const now = (await h.db.rpc<Record<string, unknown>>("billing_reconciliation", NOVEMBER)) as {
      rows: Array<Record<string, unknown>>;
      dead_letters: unknown[];
    };
    await createFormerReconciliation();
    const former = (
      await h.sql.query<{ r: unknown }>("select pg_temp.billing_reconciliation_0017($1, $2, null) as r", [
        NOVEMBER.p_from,
        NOVEMBER.p_to,
      ])
    ).rows[0]?.r;
    expect(now).toEqual(former);

    const row = (customer: string) => now.rows.find((r) => r.stripe_customer_id === customer);
    expect(now.rows.map((r) => r.stripe_customer_id)).toEqual(["cus_a", "cus_b", "cus_c"]);
    expect(row("cus_a")).toMatchObject({
      admitted: 10,
      compensated: 1,
      reported: 5,
      reported_by_batches: 5,
      pending: 4,
      dead_lettered: 0,
      orphan_compensations: 2,
      balanced: true,
      batches_consistent: true,
    });
    expect(row("cus_b")).toMatchObject({
      admitted: 10,
      compensated: 1,
      reported: 0,
      pending: 2,
      dead_lettered: 7,
      pending_batches: 1,
      dead_batches: 1,
      balanced: true,
      batches_consistent: true,
    });
    expect(row("cus_c")).toMatchObject({
      admitted: 6,
      reported: 6,
      reported_by_batches: 10,
      batches_consistent: false,
    });
    expect(now.dead_letters).toEqual([
      expect.objectContaining({ stripe_customer_id: "cus_b", units: 7, reason: "test" }),
    ]);
  });

  it("answers for 2,000 customers with two buckets each, on tables not analysed, within the statement timeout", async () => {
    await h.sql.query(
      `insert into usage_batches (id, stripe_customer_id, period, units, record_count, event_timestamp, status)
       select 'smu_' || md5(i::text), 'cus_s' || i, '2026-11', 2, 2, '2026-11-02T00:00:00Z', 'sent'
       from generate_series(1, 2000) i`,
    );
    await h.sql.query(
      `insert into usage_buckets (id, stripe_customer_id, subject, starts_at, period, admitted, compensated,
         records, first_at, last_at, batch_id)
       select 'smb_scale_' || i || '_' || j, 'cus_s' || i, 'acct-' || i, '2026-11-02T00:00:00Z'::timestamptz
           + make_interval(hours => j), '2026-11', 1, 0, 1, '2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z',
         'smu_' || md5(i::text)
       from generate_series(1, 2000) i, generate_series(1, 2) j`,
    );
    const report = (await h.db.rpc<Record<string, unknown>>("billing_reconciliation", NOVEMBER)) as {
      rows: Array<{ balanced: boolean; reported: number; batches_consistent: boolean }>;
    };
    expect(report.rows).toHaveLength(2000);
    expect(report.rows.every((r) => r.balanced && r.reported === 2 && r.batches_consistent)).toBe(true);
  });
});
