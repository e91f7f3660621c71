/**
 * The shapes of one flush run (its settings, fault hooks, dependencies and report) and the hook
 * plumbing, shared by the flusher's steps (flusher.ts, ingest-stream.ts).
 */
import type { RedisAdapter } from "../adapters/redis";
import type { StripeAdapter } from "../adapters/stripe";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import type { ReplayResult } from "../metering/pending-usage";

/** Settings of a run, from the configuration (see config.ts for each default). */
export type FlushSettings = Pick<
  Config,
  | "STRIPE_METER_EVENT_NAME"
  | "FLUSH_TIME_BUDGET_MS"
  | "FLUSH_MAX_RECORDS"
  | "FLUSH_MAX_EVENTS"
  | "FLUSH_CONCURRENCY"
  | "FLUSH_SETTLE_SECONDS"
  | "FLUSH_RECLAIM_IDLE_MS"
  | "FLUSH_RETRY_DELAY_SECONDS"
  | "STRIPE_BREAKER_FAILURE_THRESHOLD"
  | "STRIPE_BREAKER_OPEN_SECONDS"
>;

/**
 * Fault-injection points for tests: a hook that throws makes the run die exactly there, as a
 * Worker killed mid-run would (nothing after it happens).
 */
export interface FlushHooks {
  /** After the ledger committed a chunk of entries, before they are acknowledged in Redis. */
  afterIngest?(entryIds: string[]): void | Promise<void>;
  /** After Stripe accepted a batch, before the ledger marks it sent. */
  afterAccepted?(batchId: string): void | Promise<void>;
}

export interface FlushDeps {
  redis: RedisAdapter;
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  settings: FlushSettings;
  hooks?: FlushHooks;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** How long claimed batches stay reserved for this run. Default 60 s (far above one send's timeout). */
  leaseSeconds?: number;
}

export type FlushStop =
  | "drained"
  | "time_budget"
  | "event_budget"
  | "breaker_open"
  | "rate_limited"
  | "stripe_failing"
  | "database_unavailable";

/** What one run did; logged as one line and returned by `POST /admin/flush`. */
export interface FlushReport {
  run_id: string;
  started_at: string;
  duration_ms: number;
  replay: ReplayResult | null;
  /** Stream entries read (reclaimed included), and how many were reclaimed from a dead run. */
  read: number;
  reclaimed: number;
  /** Records newly written to the ledger; duplicates were already there. */
  ingested: number;
  duplicates: number;
  free_skipped: number;
  poison: number;
  acknowledged: number;
  /** True when records are still waiting in the stream past this run's record budget or a failure. */
  stream_backlog: boolean;
  batches_formed: number;
  events_attempted: number;
  sent: number;
  already_accepted: number;
  units_sent: number;
  retried: number;
  dead_lettered: number;
  breaker: string;
  stopped: FlushStop;
  errors: string[];
}

/** A hook's throw, carried past the run's own error handling: the run dies there, as a killed Worker would. */
export class RunKilled extends Error {
  constructor(readonly reason: unknown) {
    super("flush run killed by a hook");
  }
}

export async function callHook(hook: (() => void | Promise<void>) | undefined): Promise<void> {
  if (!hook) return;
  try {
    await hook();
  } catch (error) {
    throw new RunKilled(error);
  }
}
