/**
 * The billing ledger in Postgres (migrations/0003_billing_ledger.sql, usage buckets since 0017),
 * reached only through its functions. Replies are checked with zod: the money path never trusts a
 * shape it did not expect.
 */
import { z } from "zod";
import type { SealedBucket } from "../adapters/redis/usage-buckets";
import type { DatabaseAdapter } from "../adapters/supabase";

const ingestSchema = z.object({ inserted: z.number().int(), duplicates: z.number().int() });
const formSchema = z.object({ batches: z.number().int(), records: z.number().int() });
const batchSchema = z.object({
  id: z.string(),
  stripe_customer_id: z.string(),
  units: z.number().int(),
  event_timestamp: z.number().int(),
  attempts: z.number().int(),
});

export type ClaimedBatch = z.infer<typeof batchSchema>;

/** What happened to a claimed batch, as `settle_usage_batches` takes it. */
export type BatchSettlement =
  | { id: string; outcome: "sent" }
  | { id: string; outcome: "retry"; error: string; retry_after_seconds: number }
  | { id: string; outcome: "dead"; error: string };

const moveSchema = ingestSchema.extend({ batches: z.number().int() });

/** Moves sealed usage buckets in and forms their batches (one transaction); idempotent per seal id. */
export async function ingestBuckets(db: DatabaseAdapter, buckets: SealedBucket[]) {
  if (buckets.length === 0) return { inserted: 0, duplicates: 0, batches: 0 };
  return moveSchema.parse(await db.rpc<unknown>("ingest_usage_buckets", { p_buckets: buckets }));
}

/** Usage ids still waiting in Postgres for replay (the drain's "held" ids). */
export async function heldUsageIds(db: DatabaseAdapter, limit: number): Promise<string[]> {
  return z.array(z.string()).parse(await db.rpc<unknown>("pending_usage_ids", { p_limit: limit }));
}

const boundariesSchema = z.object({
  boundaries: z.array(z.object({ customer: z.string(), boundary: z.number().int() })),
  latest: z.string().nullable(),
});

/** Billing period boundaries recorded since `since`, and the latest recorded_at among them. */
export async function boundariesSince(db: DatabaseAdapter, since: Date) {
  return boundariesSchema.parse(
    await db.rpc<unknown>("billing_boundaries_since", { p_since: since.toISOString() }),
  );
}

/** Groups unbatched buckets into batches (per customer, month and billing segment), written before sending. */
export async function formBatches(db: DatabaseAdapter, settleSeconds: number, maxRecords: number) {
  return formSchema.parse(
    await db.rpc<unknown>("ledger_form_batches", {
      p_settle_seconds: settleSeconds,
      p_max_records: maxRecords,
    }),
  );
}

/** Leases up to `limit` due batches for `runner`. */
export async function claimBatches(
  db: DatabaseAdapter,
  runner: string,
  limit: number,
  leaseSeconds: number,
): Promise<ClaimedBatch[]> {
  return z.array(batchSchema).parse(
    await db.rpc<unknown>("claim_usage_batches", {
      p_runner: runner,
      p_limit: limit,
      p_lease_seconds: leaseSeconds,
    }),
  );
}

/** Records Stripe's answers for batches `runner` leased. */
export async function settleBatches(db: DatabaseAdapter, runner: string, outcomes: BatchSettlement[]) {
  if (outcomes.length === 0) return 0;
  return z
    .number()
    .int()
    .parse(await db.rpc<unknown>("settle_usage_batches", { p_runner: runner, p_outcomes: outcomes }));
}
