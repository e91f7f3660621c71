/**
 * The billing ledger in Postgres (migrations/0003_billing_ledger.sql), reached only through its
 * functions. Replies are checked with zod: the money path never trusts a shape it did not expect.
 */
import { z } from "zod";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { LedgerRecord } from "./usage-entry";

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

/** Records usage records; idempotent per (id, kind). */
export async function ingestUsage(db: DatabaseAdapter, records: LedgerRecord[]) {
  if (records.length === 0) return { inserted: 0, duplicates: 0 };
  return ingestSchema.parse(await db.rpc<unknown>("ledger_ingest_usage", { p_records: records }));
}

/** Groups settled, unbatched records into batches (one per customer and month), written before sending. */
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
