/**
 * The flusher's batches for operators (migrations/0003 and 0006): list them by status and put a
 * dead-lettered one back in the queue once its cause is fixed (e.g. the customer now exists in
 * Stripe). A requeued batch keeps its id, which is the meter event's `identifier`, so the next
 * flush sends exactly the same event and Stripe deduplicates it if it already has it (24 h or more).
 */
import { z } from "zod";
import type { DatabaseAdapter } from "../adapters/supabase";

export const USAGE_BATCH_STATUSES = ["pending", "sent", "netted", "dead"] as const;
export type UsageBatchStatus = (typeof USAGE_BATCH_STATUSES)[number];

/** A batch id is `smu_` and 32 hex digits (the md5 of the records it covers). */
export const USAGE_BATCH_ID = /^smu_[0-9a-f]{32}$/;

export const usageBatchSchema = z.object({
  id: z.string(),
  stripe_customer_id: z.string(),
  period: z.string(),
  units: z.number().int(),
  record_count: z.number().int(),
  status: z.enum(USAGE_BATCH_STATUSES),
  attempts: z.number().int(),
  created_at: z.string(),
  last_attempt_at: z.string().nullable(),
  next_attempt_at: z.string(),
  sent_at: z.string().nullable(),
  last_error: z.string().nullable(),
  dead_reason: z.string().nullable(),
  dead_at: z.string().nullable(),
});
export type UsageBatch = z.infer<typeof usageBatchSchema>;

/** Batches of one status (all when omitted), newest first; `limit` 1 to 1000, default 100. */
export async function listUsageBatches(
  db: DatabaseAdapter,
  { status, limit = 100 }: { status?: UsageBatchStatus; limit?: number } = {},
): Promise<UsageBatch[]> {
  return z
    .array(usageBatchSchema)
    .parse(await db.rpc<unknown>("list_usage_batches", { p_status: status ?? null, p_limit: limit }));
}

export type RequeueResult =
  | { outcome: "requeued"; batch: UsageBatch }
  | { outcome: "not_found" }
  | { outcome: "not_dead"; batch: UsageBatch };

/**
 * Puts a dead-lettered batch back in the queue (same identifier, attempts reset); the next flush
 * sends it. `not_found` for an unknown id, `not_dead` (with its current state) for any other status.
 */
export async function requeueUsageBatch(db: DatabaseAdapter, id: string): Promise<RequeueResult> {
  if (!USAGE_BATCH_ID.test(id)) return { outcome: "not_found" };
  const requeued = await db.rpc<unknown>("requeue_dead_usage_batch", { p_id: id });
  const batch = await db.rpc<unknown>("get_usage_batch", { p_id: id });
  if (batch === null) return { outcome: "not_found" };
  const parsed = usageBatchSchema.parse(batch);
  return requeued === null ? { outcome: "not_dead", batch: parsed } : { outcome: "requeued", batch: parsed };
}
