/**
 * Reconciliation: per Stripe customer and UTC month, units admitted, compensated, reported,
 * pending and dead-lettered, from the ledger, and whether
 * admitted - compensated = reported + pending + dead-lettered. Also says what is not in the ledger
 * yet (entries still in the Redis stream, usage waiting in Postgres for replay), so an operator
 * knows whether a period can be closed. That identity checks the ledger against itself; the second
 * check (answered-check.ts) compares it with the units the Worker answered 2xx, counted apart.
 */
import { z } from "zod";
import type { RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { type AnsweredCheck, checkAnsweredUnits } from "./answered-check";

const rowSchema = z.object({
  stripe_customer_id: z.string(),
  period: z.string(),
  admitted: z.number(),
  compensated: z.number(),
  reported: z.number(),
  reported_by_batches: z.number(),
  pending: z.number(),
  dead_lettered: z.number(),
  orphan_compensations: z.number(),
  records: z.number(),
  pending_batches: z.number(),
  dead_batches: z.number(),
  batches_consistent: z.boolean(),
  balanced: z.boolean(),
});

const deadLetterSchema = z.object({
  id: z.string(),
  stripe_customer_id: z.string(),
  period: z.string(),
  units: z.number(),
  attempts: z.number(),
  reason: z.string().nullable(),
  dead_at: z.string().nullable(),
});

const meterErrorSchema = z.object({
  rows: z.array(
    z.object({
      stripe_customer_id: z.string(),
      period: z.string(),
      batches: z.number(),
      units: z.number(),
    }),
  ),
  reports: z.number(),
  errors: z.number(),
  unmatched_samples: z.number(),
});

/**
 * Stripe's asynchronous meter errors (meter-errors.ts): batches it rejected after accepting them
 * (dead-lettered, so counted in `dead_lettered` above), per customer and month; and the reports
 * received in the range, their error count (beyond Stripe's samples, not mappable to a batch) and
 * sampled identifiers that name no batch of ours.
 */
export type StripeMeterErrors = z.infer<typeof meterErrorSchema>;

const reportSchema = z.object({
  rows: z.array(rowSchema),
  dead_letters: z.array(deadLetterSchema),
});

export type ReconciliationRow = z.infer<typeof rowSchema>;

export interface ReconciliationQuery {
  /** Inclusive, UTC. */
  from: Date;
  /** Exclusive, UTC. */
  to: Date;
  customer?: string;
  /** How old usage may be and still be on its way (see answered-check.ts). Default 15 minutes. */
  graceMs?: number;
}

export interface ReconciliationReport {
  from: string;
  to: string;
  customer: string | null;
  rows: ReconciliationRow[];
  totals: Omit<ReconciliationRow, "stripe_customer_id" | "period">;
  /** Both checks hold: `ledger_balanced` and `answered_check.balanced`. */
  balanced: boolean;
  /** Every row balances and every batch equals the sum of its records. */
  ledger_balanced: boolean;
  /** The independent check: units answered 2xx against units billed, and nothing stuck. */
  answered_check: AnsweredCheck;
  dead_letters: z.infer<typeof deadLetterSchema>[];
  stripe_meter_errors: StripeMeterErrors | null;
  /** Usage not in the ledger yet; while non-zero, recent periods may still grow. */
  not_yet_in_ledger: { stream_entries: number | null; pending_replay_records: number | null };
}

const SUMMED = [
  "admitted",
  "compensated",
  "reported",
  "reported_by_batches",
  "pending",
  "dead_lettered",
  "orphan_compensations",
  "records",
  "pending_batches",
  "dead_batches",
] as const;

export async function reconcileUsage(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter },
  query: ReconciliationQuery,
): Promise<ReconciliationReport> {
  const [ledger, stream, replay, meterErrors] = await Promise.all([
    db.rpc<unknown>("billing_reconciliation", {
      p_from: query.from.toISOString(),
      p_to: query.to.toISOString(),
      p_customer: query.customer ?? null,
    }),
    redis.usageStreamBacklog().catch(() => null),
    db.rpc<{ records: number; oldest: string | null }>("pending_usage_backlog").catch(() => null),
    db
      .rpc<unknown>("meter_error_summary", {
        p_from: query.from.toISOString(),
        p_to: query.to.toISOString(),
        p_customer: query.customer ?? null,
      })
      .then((reply) => meterErrorSchema.parse(reply))
      .catch(() => null),
  ]);
  const { rows, dead_letters } = reportSchema.parse(ledger);
  const totals = Object.fromEntries(
    SUMMED.map((key) => [key, rows.reduce((sum, row) => sum + row[key], 0)]),
  ) as Record<(typeof SUMMED)[number], number>;
  const ledgerBalanced = rows.every((row) => row.balanced && row.batches_consistent);
  const answeredCheck = await checkAnsweredUnits({ db, redis }, query, {
    streamEntries: stream?.entries ?? null,
    oldestStreamEntryMs: stream?.oldestEntryMs ?? null,
    oldestPendingReplayMs: replay?.oldest ? Date.parse(replay.oldest) : null,
  });
  const balanced = ledgerBalanced && answeredCheck.balanced;
  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    customer: query.customer ?? null,
    rows,
    totals: {
      ...totals,
      batches_consistent: rows.every((r) => r.batches_consistent),
      balanced: ledgerBalanced,
    },
    balanced,
    ledger_balanced: ledgerBalanced,
    answered_check: answeredCheck,
    dead_letters,
    stripe_meter_errors: meterErrors,
    not_yet_in_ledger: {
      stream_entries: stream?.entries ?? null,
      pending_replay_records: replay ? Number(replay.records) : null,
    },
  };
}
