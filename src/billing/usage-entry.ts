/**
 * Usage stream entries as the flusher sees them: a billable record for the ledger, a record with
 * nothing to bill (free tier: no Stripe customer), or poison (malformed; dead-lettered, not lost).
 */
import type { UsageStreamEntry } from "../metering/usage-record";

/** One usage record as `ledger_ingest_usage` takes it. */
export interface LedgerRecord {
  id: string;
  kind: "admit" | "compensate";
  request_id: string;
  subject: string;
  stripe_customer_id: string;
  tier: string;
  units: number;
  /** ISO 8601 UTC. */
  ts: string;
  source: "live" | "replay";
  stream_entry_id: string;
}

export type ClassifiedEntry =
  | { type: "billable"; record: LedgerRecord }
  | { type: "free" }
  | { type: "poison"; reason: string };

const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * The most units one record may carry. The largest legitimate call is a full batch with enrichment
 * (MAX_BATCH_DOCUMENTS × 2, 200 by default); anything near this is a producer bug, and the cap keeps
 * every per-customer sum far inside what the ledger's arithmetic holds.
 */
export const MAX_UNITS_PER_RECORD = 1_000_000;

/**
 * Timestamps exactly as the producers write them (`Date.prototype.toISOString`): a 4-digit year
 * from 2000, UTC. Anything else (`+010000-01-01T00:00:00Z`, a local offset) is refused here rather
 * than by Postgres, where it would fail its whole ingestion chunk.
 */
const TIMESTAMP_PATTERN = /^2\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * Text of bounded length without control characters or lone surrogates: Postgres refuses NUL in
 * text and unpaired surrogates in JSON, and nothing here needs either.
 */
const TEXT_PATTERN = /^[^\p{Cc}\p{Cs}]{1,255}$/u;

/** Sorts one stream entry; never throws. */
export function classifyUsageEntry({ entryId, fields }: UsageStreamEntry): ClassifiedEntry {
  const { id, kind, request_id, subject, stripe_customer_id, tier, units, ts, source } = fields;
  if (!id || !ID_PATTERN.test(id)) return { type: "poison", reason: "missing or malformed id" };
  if (kind !== "admit" && kind !== "compensate") return { type: "poison", reason: `unknown kind ${kind}` };
  if (!units || !/^-?\d{1,9}$/.test(units)) return { type: "poison", reason: "units not a whole number" };
  const value = Number(units);
  if (kind === "admit" ? value <= 0 : value >= 0) {
    return { type: "poison", reason: `units ${value} have the wrong sign for ${kind}` };
  }
  if (Math.abs(value) > MAX_UNITS_PER_RECORD) {
    return { type: "poison", reason: `units ${value} beyond the ${MAX_UNITS_PER_RECORD} a record may carry` };
  }
  const time = ts && TIMESTAMP_PATTERN.test(ts) ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(time)) return { type: "poison", reason: "ts not an ISO 8601 UTC timestamp" };
  if (!subject || !tier || request_id === undefined) return { type: "poison", reason: "missing fields" };
  for (const [name, value] of Object.entries({ request_id, subject, tier })) {
    if (!TEXT_PATTERN.test(value))
      return { type: "poison", reason: `${name} empty, too long or with control characters` };
  }
  if (stripe_customer_id && !TEXT_PATTERN.test(stripe_customer_id)) {
    return { type: "poison", reason: "stripe_customer_id too long or with control characters" };
  }
  // Free tier: admitted and rate limited like everyone, but there is nobody to bill.
  if (!stripe_customer_id) return { type: "free" };
  return {
    type: "billable",
    record: {
      id,
      kind,
      request_id,
      subject,
      stripe_customer_id,
      tier,
      units: value,
      ts: new Date(time).toISOString(),
      source: source === "replay" ? "replay" : "live",
      stream_entry_id: entryId,
    },
  };
}
