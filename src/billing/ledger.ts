/**
 * The billing ledger in Postgres (migrations/0003_billing_ledger.sql), reached only through its
 * functions. Replies are checked with zod: the money path never trusts a shape it did not expect.
 */
import { z } from "zod";
import { type DatabaseAdapter, DatabaseError } from "../adapters/supabase";
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

/**
 * Whether Postgres refused the records themselves (a data exception or a broken constraint, SQLSTATE
 * classes 22 and 23), as opposed to being unreachable: only then can a smaller chunk succeed.
 */
export function isRefusedData(error: unknown): error is DatabaseError {
  return error instanceof DatabaseError && /^2[23]/.test(error.code);
}

/**
 * `ingestUsage`, with the records Postgres refuses found and set apart instead of failing the whole
 * chunk for ever: a refused chunk is split in halves until each refused record stands alone (at most
 * about 2 × refused × log2(chunk) calls). Unavailability still throws, so nothing is acknowledged.
 */
export async function ingestUsageSplitting(
  db: DatabaseAdapter,
  records: LedgerRecord[],
): Promise<{ inserted: number; duplicates: number; refused: { record: LedgerRecord; reason: string }[] }> {
  try {
    return { ...(await ingestUsage(db, records)), refused: [] };
  } catch (error) {
    if (!isRefusedData(error)) throw error;
    const [only] = records;
    if (records.length === 1 && only) {
      return {
        inserted: 0,
        duplicates: 0,
        refused: [{ record: only, reason: `postgres refused it: ${error.message}` }],
      };
    }
    const middle = Math.ceil(records.length / 2);
    const first = await ingestUsageSplitting(db, records.slice(0, middle));
    const second = await ingestUsageSplitting(db, records.slice(middle));
    return {
      inserted: first.inserted + second.inserted,
      duplicates: first.duplicates + second.duplicates,
      refused: [...first.refused, ...second.refused],
    };
  }
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
