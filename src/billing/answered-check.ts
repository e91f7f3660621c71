/**
 * The reconciliation's second, independent check: per Stripe customer and UTC month, the units the
 * Worker answered 2xx (counted after each response, src/metering/answered-units.ts) against the units
 * the ledger bills (admitted - compensated), and ledger units that should have reached Stripe by
 * now but did not. The ledger's own identity (reconciliation.ts) cannot see a billed refusal (a
 * record without its compensation balances perfectly) nor usage that never reaches the ledger or
 * Stripe; this check sees both:
 * - billed > answered: units billed for answers that were not 2xx (issue 15, reproduction 1);
 * - answered > billed: units answered 2xx that are not in the ledger (a stalled stream, lost records);
 * - unsent: ledger units older than the grace period not reported to Stripe (stuck batches);
 * - stalled: the oldest usage not yet in the ledger (stream entry, record awaiting replay) is older
 *   than the grace period: ingestion is not keeping up, or is stuck on something.
 * Usage younger than the grace period may still be on its way (in the stream, its compensation
 * not yet appended), so while some is in flight a mismatch in a period that has not been over for
 * the grace period is reported as `in_flight` instead of failing. `--grace-minutes 0` after a
 * drained flush makes every mismatch count.
 */
import { z } from "zod";
import type { RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";

/** How old usage may be and still be on its way to the ledger and Stripe. Default 15 minutes. */
export const DEFAULT_ANSWERED_GRACE_MS = 15 * 60 * 1000;
/** At most this many months are read from Redis per check (its counts live about 13 months). */
const MAX_REDIS_PERIODS = 24;

const checkSchema = z.object({
  answered: z.array(z.object({ stripe_customer_id: z.string(), period: z.string(), units: z.number() })),
  unsent: z.array(
    z.object({ stripe_customer_id: z.string(), period: z.string(), units: z.number(), oldest: z.string() }),
  ),
});

export interface AnsweredRow {
  stripe_customer_id: string;
  period: string;
  /** Units the Worker answered 2xx (Redis and Postgres counts). */
  answered: number;
  /** Units the ledger bills: admitted - compensated. */
  billed: number;
  /** billed - answered: positive means billed without a 2xx, negative means answered but not billed. */
  difference: number;
  /** Ledger units older than the grace period that are not reported to Stripe yet. */
  unsent: number;
  matches: boolean;
}

export interface AnsweredCheck {
  /** Every row matches, nothing is unsent or stalled, and the counts could be read. */
  balanced: boolean;
  /** "unavailable": Redis's counts could not be read, so nothing can be concluded. */
  status: "balanced" | "mismatch" | "in_flight" | "unavailable";
  grace_minutes: number;
  /** Usage younger than the grace period is still on its way to the ledger. */
  in_flight: boolean;
  /** The oldest usage not yet in the ledger is older than the grace period. */
  stalled: boolean;
  rows: AnsweredRow[];
}

/** What the check needs from the ledger check: billed units per row, and what is not in the ledger yet. */
export interface LedgerView {
  rows: { stripe_customer_id: string; period: string; admitted: number; compensated: number }[];
  oldestStreamEntryMs: number | null;
  oldestPendingReplayMs: number | null;
  streamEntries: number | null;
}

/** The first instant after a `YYYY-MM` month, in ms. */
const periodEndMs = (period: string) => {
  const start = new Date(`${period}-01T00:00:00Z`);
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
};

/** `YYYY-MM` of every UTC month overlapping [from, min(to, now)), the latest `MAX_REDIS_PERIODS` of them. */
export function periodsBetween(from: Date, to: Date, nowMs: number): string[] {
  const end = new Date(Math.min(to.getTime() - 1, nowMs));
  const periods: string[] = [];
  const cursor = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1));
  // A month overlaps the range when it ends after `from`.
  while (
    periods.length < MAX_REDIS_PERIODS &&
    periodEndMs(cursor.toISOString().slice(0, 7)) > from.getTime()
  ) {
    periods.unshift(cursor.toISOString().slice(0, 7));
    cursor.setUTCMonth(cursor.getUTCMonth() - 1);
  }
  return periods;
}

export async function checkAnsweredUnits(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter },
  query: { from: Date; to: Date; customer?: string; graceMs?: number; nowMs?: number },
  ledger: LedgerView,
): Promise<AnsweredCheck> {
  const nowMs = query.nowMs ?? Date.now();
  const graceMs = query.graceMs ?? DEFAULT_ANSWERED_GRACE_MS;
  const [database, fromRedis] = await Promise.all([
    db.rpc<unknown>("answered_units_check", {
      p_from: query.from.toISOString(),
      p_to: query.to.toISOString(),
      p_customer: query.customer ?? null,
      p_unsent_before: new Date(nowMs - graceMs).toISOString(),
    }),
    Promise.all(
      periodsBetween(query.from, query.to, nowMs).map(async (period) => ({
        period,
        counts: await redis.answeredUnits(period),
      })),
    ).catch(() => null),
  ]);
  const { answered, unsent } = checkSchema.parse(database);

  const rows = new Map<string, AnsweredRow>();
  const rowOf = (customer: string, period: string) => {
    const key = `${customer} ${period}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        stripe_customer_id: customer,
        period,
        answered: 0,
        billed: 0,
        difference: 0,
        unsent: 0,
        matches: true,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const row of ledger.rows)
    rowOf(row.stripe_customer_id, row.period).billed += row.admitted - row.compensated;
  for (const row of answered) rowOf(row.stripe_customer_id, row.period).answered += row.units;
  for (const { period, counts } of fromRedis ?? []) {
    for (const [customer, units] of Object.entries(counts)) {
      if (!query.customer || customer === query.customer) rowOf(customer, period).answered += units;
    }
  }
  for (const row of unsent) rowOf(row.stripe_customer_id, row.period).unsent += row.units;

  const ages = [ledger.oldestStreamEntryMs, ledger.oldestPendingReplayMs].filter((ms) => ms !== null);
  const stalled = ages.some((ms) => nowMs - ms >= graceMs);
  const inFlight = !stalled && (ages.length > 0 || ledger.streamEntries === null);
  let mismatched = false;
  let waiting = false;
  const sorted = [...rows.values()].sort((a, b) =>
    a.stripe_customer_id === b.stripe_customer_id
      ? a.period.localeCompare(b.period)
      : a.stripe_customer_id.localeCompare(b.stripe_customer_id),
  );
  for (const row of sorted) {
    row.difference = row.billed - row.answered;
    row.matches = row.difference === 0 && row.unsent === 0;
    if (row.matches) continue;
    // Usage still on its way can only belong to a period that was open within the grace period.
    if (row.unsent === 0 && inFlight && periodEndMs(row.period) > nowMs - graceMs) waiting = true;
    else mismatched = true;
  }
  const status =
    fromRedis === null
      ? "unavailable"
      : mismatched || stalled
        ? "mismatch"
        : waiting
          ? "in_flight"
          : "balanced";
  return {
    balanced: status === "balanced",
    status,
    grace_minutes: graceMs / 60_000,
    in_flight: inFlight,
    stalled,
    rows: sorted,
  };
}
