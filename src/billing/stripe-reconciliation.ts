/**
 * Reconciliation with Stripe (issue 17, item 4): per Stripe customer and UTC month, what the ledger
 * says Stripe was sent (sent batches, by their meter event timestamp) against what Stripe holds
 * (its meter event summaries, `GET /v1/billing/meters/{id}/event_summaries`), and a correcting
 * meter event for each difference when an operator asks for it.
 *
 * Eventual consistency: Stripe aggregates meter events asynchronously, so a summary may lag the
 * events it has accepted. Only a window that ended `settleMinutes` ago (default 60) is compared:
 * the window of a month ends at min(month end, `to`, now - settle), aligned down to the minute as
 * Stripe requires; a row with a batch *sent* within the settle delay (a late retry of an old
 * event) reads `not_settled` and is never corrected. A correction is not repeated while it may
 * still be on its way (`correction_pending`: one was made within the settle delay).
 *
 * Corrections make Stripe agree with the ledger (the record of what was answered 2xx): the event's
 * value is ledger - Stripe (positive or negative), its identifier `smc_` + a hash of what was
 * compared, written to `meter_corrections` before sending, timestamped inside the window (the last
 * second of it), so it lands in the same period. Stripe refuses timestamps older than 35 days:
 * such a row reads `too_old_to_correct`.
 */
import { z } from "zod";
import type { StripeAdapter } from "../adapters/stripe";
import type { DatabaseAdapter } from "../adapters/supabase";
import { describeError } from "../lib/log";
import { meterEventParts } from "./meter-event-parts";
import { classifyMeterError } from "./meter-outcome";

/** Default settle delay before a window is compared with Stripe's summaries. */
export const DEFAULT_STRIPE_SETTLE_MINUTES = 60;
/** Stripe accepts meter event timestamps up to 35 days old; a margin of one hour for the send. */
const CORRECTABLE_SECONDS = 35 * 86_400 - 3600;

const ledgerRowSchema = z.object({
  stripe_customer_id: z.string(),
  period: z.string(),
  window_start: z.number().int(),
  window_end: z.number().int(),
  reported: z.number(),
  batches: z.number().int(),
  unsettled_batches: z.number().int(),
  corrections_sent: z.number().int(),
  last_correction_at: z.string().nullable(),
});

export type StripeComparisonStatus =
  | "match"
  | "difference"
  | "not_settled"
  | "correction_pending"
  | "too_old_to_correct"
  | "unavailable";

export interface StripeComparisonRow {
  stripe_customer_id: string;
  period: string;
  /** Unix seconds, minute-aligned: the window compared, [start, end). */
  window_start: number;
  window_end: number;
  /** Units the ledger says Stripe was sent in the window (sent batches). */
  ledger_reported: number;
  /** Stripe's aggregated value for the customer over the window; null when Stripe did not answer. */
  stripe_aggregated: number | null;
  /** stripe_aggregated - ledger_reported: positive, Stripe bills more than the ledger. */
  difference: number | null;
  status: StripeComparisonStatus;
  corrections_sent: number;
  detail: string | null;
}

export interface StripeComparison {
  meter: string | null;
  settle_minutes: number;
  /** The latest instant compared: now - settle, aligned down to the minute. */
  compared_until: string;
  rows: StripeComparisonRow[];
  /** No row reads `difference` or `unavailable` (not_settled rows are not concluded). */
  matches: boolean;
  differences: number;
}

export interface StripeReconciliationQuery {
  from: Date;
  to: Date;
  customer?: string;
  /** Default {@link DEFAULT_STRIPE_SETTLE_MINUTES}. */
  settleMinutes?: number;
  /** Clock in ms; default Date.now. */
  now?: number;
}

export interface StripeReconciliationDeps {
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  meterEventName: string;
}

const minuteFloor = (seconds: number) => Math.floor(seconds / 60) * 60;
const minuteCeil = (seconds: number) => Math.ceil(seconds / 60) * 60;

/** Compares the ledger with Stripe's meter event summaries; reads only, sends nothing. */
export async function compareWithStripe(
  deps: StripeReconciliationDeps,
  query: StripeReconciliationQuery,
): Promise<StripeComparison> {
  const settleMinutes = query.settleMinutes ?? DEFAULT_STRIPE_SETTLE_MINUTES;
  const nowMs = query.now ?? Date.now();
  const settledBefore = nowMs - settleMinutes * 60_000;
  const from = minuteCeil(Math.floor(query.from.getTime() / 1000));
  const until = Math.min(
    minuteFloor(Math.floor(query.to.getTime() / 1000)),
    minuteFloor(Math.floor(settledBefore / 1000)),
  );
  const base = { settle_minutes: settleMinutes, compared_until: new Date(until * 1000).toISOString() };
  if (until <= from) return { ...base, meter: null, rows: [], matches: true, differences: 0 };

  const ledgerRows = z.array(ledgerRowSchema).parse(
    await deps.db.rpc<unknown>("stripe_reconciliation_ledger", {
      p_from: new Date(from * 1000).toISOString(),
      p_to: new Date(until * 1000).toISOString(),
      p_customer: query.customer ?? null,
      p_settled_before: new Date(settledBefore).toISOString(),
    }),
  );
  let meter: string | undefined;
  let meterProblem = `no active meter for ${deps.meterEventName}`;
  try {
    meter = await deps.stripe.findMeterId(deps.meterEventName);
  } catch (error) {
    meterProblem = `the meter could not be looked up: ${describeError(error)}`;
  }
  const rows: StripeComparisonRow[] = [];
  for (const row of ledgerRows) {
    const common = {
      stripe_customer_id: row.stripe_customer_id,
      period: row.period,
      window_start: row.window_start,
      window_end: row.window_end,
      ledger_reported: row.reported,
      corrections_sent: row.corrections_sent,
    };
    if (!meter) {
      rows.push({
        ...common,
        stripe_aggregated: null,
        difference: null,
        status: "unavailable",
        detail: meterProblem,
      });
      continue;
    }
    let aggregated: number;
    try {
      const summaries = await deps.stripe.listMeterEventSummaries({
        meterId: meter,
        customer: row.stripe_customer_id,
        startTime: row.window_start,
        endTime: row.window_end,
      });
      aggregated = summaries.reduce((sum, summary) => sum + summary.aggregatedValue, 0);
    } catch (error) {
      rows.push({
        ...common,
        stripe_aggregated: null,
        difference: null,
        status: "unavailable",
        detail: describeError(error),
      });
      continue;
    }
    const difference = aggregated - row.reported;
    const correctedRecently =
      row.last_correction_at !== null && Date.parse(row.last_correction_at) >= settledBefore;
    let status: StripeComparisonStatus = difference === 0 ? "match" : "difference";
    let detail: string | null = null;
    if (row.unsettled_batches > 0) {
      status = "not_settled";
      detail = `${row.unsettled_batches} batch(es) sent within the last ${settleMinutes} min: Stripe may not show them yet`;
    } else if (difference !== 0 && correctedRecently) {
      status = "correction_pending";
      detail = "a correction was sent within the settle delay and may not show yet";
    } else if (difference !== 0 && row.window_end - 1 < nowMs / 1000 - CORRECTABLE_SECONDS) {
      status = "too_old_to_correct";
      detail = "Stripe accepts meter events at most 35 days old: adjust the invoice instead";
    }
    rows.push({ ...common, stripe_aggregated: aggregated, difference, status, detail });
  }
  const differences = rows.filter((row) => row.status === "difference").length;
  return {
    ...base,
    meter: meter ?? null,
    rows,
    matches: rows.every((row) => row.status !== "difference" && row.status !== "unavailable"),
    differences,
  };
}

export interface StripeCorrection {
  identifier: string;
  stripe_customer_id: string;
  period: string;
  value: number;
  outcome: "sent" | "already_sent" | "failed";
  error: string | null;
}

/**
 * Compares, then sends one correcting meter event per row that reads `difference`. Each is
 * recorded before sending; a repeat of the same comparison reuses its identifier, so Stripe
 * deduplicates it.
 */
export async function correctStripeDifferences(
  deps: StripeReconciliationDeps,
  query: StripeReconciliationQuery,
): Promise<{ comparison: StripeComparison; corrections: StripeCorrection[] }> {
  const comparison = await compareWithStripe(deps, query);
  const corrections: StripeCorrection[] = [];
  for (const row of comparison.rows) {
    if (row.status !== "difference" || row.stripe_aggregated === null) continue;
    const value = row.ledger_reported - row.stripe_aggregated;
    const identifier = `smc_${await digestHex(
      [
        row.stripe_customer_id,
        row.window_start,
        row.window_end,
        row.ledger_reported,
        row.stripe_aggregated,
        row.corrections_sent,
      ].join("|"),
    )}`;
    const correction = {
      identifier,
      stripe_customer_id: row.stripe_customer_id,
      period: row.period,
      window_start: row.window_start,
      window_end: row.window_end,
      expected: row.ledger_reported,
      observed: row.stripe_aggregated,
      value,
      event_timestamp: row.window_end - 1,
    };
    const recorded = z
      .string()
      .parse(await deps.db.rpc<unknown>("record_meter_correction", { p_correction: correction }));
    const base = { identifier, stripe_customer_id: row.stripe_customer_id, period: row.period, value };
    if (recorded === "sent") {
      corrections.push({ ...base, outcome: "already_sent", error: null });
      continue;
    }
    const error = await sendCorrection(deps, correction);
    await deps.db.rpc("settle_meter_correction", {
      p_identifier: identifier,
      p_status: error === null ? "sent" : "failed",
      p_error: error,
    });
    corrections.push({ ...base, outcome: error === null ? "sent" : "failed", error });
  }
  return { comparison, corrections };
}

async function sendCorrection(
  deps: StripeReconciliationDeps,
  correction: { identifier: string; stripe_customer_id: string; value: number; event_timestamp: number },
): Promise<string | null> {
  for (const part of meterEventParts(correction.identifier, correction.value)) {
    try {
      await deps.stripe.reportMeterEvent({
        eventName: deps.meterEventName,
        stripeCustomerId: correction.stripe_customer_id,
        value: part.value,
        identifier: part.identifier,
        timestamp: correction.event_timestamp,
      });
    } catch (thrown) {
      const outcome = classifyMeterError(thrown);
      if (outcome.kind === "already_accepted") continue;
      return outcome.kind === "accepted" ? null : outcome.reason;
    }
  }
  return null;
}

/** 32 hex digits of the SHA-256 of `text`: deterministic, so a repeated correction keeps its identifier. */
async function digestHex(text: string): Promise<string> {
  const data = new TextEncoder().encode(text);
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)]
    .slice(0, 16)
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}
