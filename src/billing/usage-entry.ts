/**
 * Usage stream entries as the flusher sees them: a billable record for the ledger, a record with
 * nothing to bill (free tier: no Stripe customer), or poison (malformed; dead-lettered, not lost).
 */
import type { UsageStreamEntry } from "../adapters/redis";

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
  const time = ts ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(time)) return { type: "poison", reason: "ts not a timestamp" };
  if (!subject || !tier || request_id === undefined) return { type: "poison", reason: "missing fields" };
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
