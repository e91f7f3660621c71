/**
 * Usage that could not go through Redis, kept in Postgres (`pending_usage`) until Redis is back.
 *
 * Exactly-once, end to end:
 * 1. `recordPendingUsage` inserts by (id, kind); a retried insert is a no-op.
 * 2. `replayPendingUsage` leases rows (SKIP LOCKED, so two replayers never share one), appends each
 *    to the usage stream through `append-usage` (idempotent per id and kind via a marker key), and
 *    only then marks the rows replayed. A crash between the two steps leaves the rows leased; when
 *    the lease runs out they are replayed again and the marker turns the second append into a no-op.
 * 3. The one case the marker alone does not cover: an admission whose script ran in Redis but
 *    whose reply timed out, so it is in the stream and in Postgres. The drain counts whichever copy
 *    comes first and marks the id counted (drain-usage.ts; the ids still waiting here are passed to
 *    it as "held"), so the other copy is a duplicate; a script that runs only after the replay
 *    finds the marker and admits nothing (admit-usage.ts).
 */
import { z } from "zod";
import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { log } from "../lib/log";
import type { UsageRecord } from "./usage-record";

/**
 * Stores one record durably; true when this call inserted it, false when it was already there.
 * `certain`: a compensation whose admission is certainly recorded (see settle.ts).
 */
export async function recordPendingUsage(
  db: DatabaseAdapter,
  record: UsageRecord,
  certain = false,
): Promise<boolean> {
  return db.rpc<boolean>("record_pending_usage", {
    p_id: record.id,
    p_kind: record.kind,
    p_request_id: record.requestId,
    p_subject: record.subject,
    p_stripe_customer_id: record.stripeCustomerId,
    p_tier: record.tier,
    p_units: record.units,
    p_occurred_at: new Date(record.occurredAtMs).toISOString(),
    p_certain: certain,
  });
}

const pendingRowSchema = z.object({
  id: z.string(),
  kind: z.enum(["admit", "compensate"]),
  request_id: z.string(),
  subject: z.string(),
  stripe_customer_id: z.string().nullable(),
  tier: z.string(),
  units: z.number().int(),
  occurred_at: z.string(),
  certain: z.boolean().default(false),
});

export interface ReplayOptions {
  /** Rows per call. Default 100. */
  limit?: number;
  /** How long claimed rows stay reserved for this replayer. Default 60 s. */
  leaseSeconds?: number;
}

export interface ReplayResult {
  /** Rows leased from Postgres. */
  claimed: number;
  /** Records appended to the stream now. */
  appended: number;
  /** Records already in the stream (an earlier replay appended them but did not mark them). */
  duplicates: number;
  /** Records Redis did not take; they stay pending and are retried when their lease ends. */
  failed: number;
}

/**
 * Replays pending usage into the usage stream: the entry point for the flusher (issue 5), to call
 * at the start of each scheduled run. Safe to run concurrently and to repeat; stops at the first
 * Redis failure (Redis is probably still down) and leaves the rest for the next run.
 */
export async function replayPendingUsage(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter },
  { limit = 100, leaseSeconds = 60 }: ReplayOptions = {},
): Promise<ReplayResult> {
  const rows = z
    .array(pendingRowSchema)
    .parse(await db.rpc<unknown>("claim_pending_usage", { p_limit: limit, p_lease_seconds: leaseSeconds }));
  const result: ReplayResult = { claimed: rows.length, appended: 0, duplicates: 0, failed: 0 };
  const done: { id: string; kind: string }[] = [];
  for (const row of rows) {
    const record: UsageRecord = {
      id: row.id,
      kind: row.kind,
      requestId: row.request_id,
      subject: row.subject,
      stripeCustomerId: row.stripe_customer_id,
      tier: row.tier,
      units: row.units,
      occurredAtMs: Date.parse(row.occurred_at),
    };
    try {
      if (await redis.appendUsage(record, "replay", row.certain)) result.appended += 1;
      else result.duplicates += 1;
      done.push({ id: row.id, kind: row.kind });
    } catch (error) {
      log("warn", "pending usage replay stopped: redis unavailable", {
        usage_id: row.id,
        error: describeRedisError(error),
      });
      result.failed = rows.length - done.length;
      break;
    }
  }
  if (done.length > 0) await db.rpc<number>("mark_pending_usage_replayed", { p_records: done });
  return result;
}
