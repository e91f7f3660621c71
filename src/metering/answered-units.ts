/**
 * Answered units: the Worker's own count of the units it answered 2xx, per Stripe customer and UTC
 * day, for the reconciliation's second check (src/billing/answered-check.ts).
 *
 * Why this is independent of the usage records the ledger is built from:
 * - The records are written *before* compute (the admission script appends one, in the same round
 *   trip that decides admission) and corrected afterwards by a compensation when the answer was not
 *   2xx. A bug or fault on that path (a timed-out admission whose refusal was not compensated, an
 *   entry that never leaves the stream, a batch that is never formed) leaves a record that
 *   disagrees with what the caller got, and a ledger that still agrees with itself.
 * - This count is written *after* the response status is known, by a separate command, from the
 *   status alone: it never reads the records, the stream, the compensation or the ledger, and the
 *   admission script never writes it. A counter bumped inside the admission script would share
 *   every fault of the record (it runs whenever the record is written), so it could not tell.
 * - What the two sides still share: the admission's units and customer (one source of truth for
 *   the price of a call), and the status the admission middleware sees (the same one the caller
 *   gets; outer middleware only adds headers).
 * A billed refusal shows as ledger > answered; lost or stalled usage as answered > ledger.
 *
 * Cost: one Redis request (one script: HINCRBY, EXPIRE, and the counting-since mark) per billable
 * 2xx of a paying customer, in `waitUntil`, never on the response path; free-tier calls (no Stripe
 * customer) are not counted, as they are never billed. Storage: one hash per UTC day (kept about
 * 13 months), one field per customer. Days, not months, so that the reconciliation can leave out
 * the day counting began (usage before it was never counted) and compare every whole day after.
 *
 * When Redis does not take the count it goes to Postgres (`record_answered_units`); when neither
 * does, one log line says so with the customer, period and units, so the mismatch the next
 * reconciliation shows is explained. A count whose Redis call timed out may have landed in both
 * (counted twice): the line says that too. Counts are not idempotent, on purpose: a per-request
 * marker would cost a key per request.
 */
import { describeRedisError, mayHaveRun, type RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { log } from "../lib/log";
import type { UsageRecord } from "./usage-record";

/** Whether this answer adds to the answered units: a 2xx for billable units of a paying customer. */
export function countsAsAnswered(record: UsageRecord, status: number): boolean {
  return status >= 200 && status < 300 && record.units > 0 && record.stripeCustomerId !== null;
}

/** The UTC day (`YYYY-MM-DD`) a count belongs to: that of the admission, as its usage record's. */
export const answeredDayOf = (occurredAtMs: number) => new Date(occurredAtMs).toISOString().slice(0, 10);

/**
 * Counts `record`'s units as answered 2xx, on the UTC day of its admission (the day, and so the
 * period, its usage record is billed in). Run it in `waitUntil` after a 2xx; never throws.
 */
export async function countAnsweredUnits(
  { redis, db }: { redis: RedisAdapter; db: DatabaseAdapter },
  record: UsageRecord,
): Promise<void> {
  const customer = record.stripeCustomerId;
  if (!customer || record.units <= 0) return;
  const day = answeredDayOf(record.occurredAtMs);
  let redisError: unknown;
  try {
    // Counting began with the first counted call's admission: earlier usage was never counted.
    await redis.countAnsweredUnits(customer, day, record.units, record.occurredAtMs);
    return;
  } catch (error) {
    redisError = error;
  }
  const fields = {
    request_id: record.requestId,
    stripe_customer_id: customer,
    day,
    units: record.units,
    redis_error: describeRedisError(redisError),
  };
  try {
    await db.rpc<null>("record_answered_units", {
      p_stripe_customer_id: customer,
      p_day: day,
      p_units: record.units,
    });
    if (mayHaveRun(redisError)) {
      log(
        "warn",
        "answered units recorded in postgres; the timed-out redis count may have counted them too",
        fields,
      );
    }
  } catch (error) {
    log("error", "answered units not counted: the reconciliation will show them as billed but not answered", {
      ...fields,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
