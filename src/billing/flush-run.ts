/**
 * The shapes of one flush run (its settings, fault hooks, dependencies and report) and the hook
 * plumbing, shared by the flusher's steps (flusher.ts, ingest-stream.ts).
 */
import type { RedisAdapter } from "../adapters/redis";
import type { StripeAdapter } from "../adapters/stripe";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import type { ReplayResult } from "../metering/pending-usage";

/** Settings of a run; `flushSettingsOf` reads them from the configuration (config.ts has each default). */
export interface FlushSettings {
  /** Event name of the billing meter (STRIPE_METER_EVENT_NAME). */
  meterEventName: string;
  /** Wall-clock budget of one run (FLUSH_TIME_BUDGET_MS). */
  timeBudgetMs: number;
  /** Usage stream entries drained per run (FLUSH_MAX_RECORDS). */
  maxRecords: number;
  /** Meter events sent per run (FLUSH_MAX_EVENTS). */
  maxEvents: number;
  /** Meter events in flight at once (FLUSH_CONCURRENCY). */
  concurrency: number;
  /**
   * How old a stream entry must be before it is drained, and how long a usage bucket must be quiet
   * before it is sealed (FLUSH_SETTLE_SECONDS).
   */
  settleSeconds: number;
  /** A usage bucket open this long is sealed even while its customer keeps calling (FLUSH_SEAL_SECONDS). */
  sealSeconds: number;
  /** Wait after a 5xx or timeout (FLUSH_RETRY_DELAY_SECONDS). */
  retryDelaySeconds: number;
  /** Consecutive Stripe failures that open the breaker (STRIPE_BREAKER_FAILURE_THRESHOLD). */
  breakerFailureThreshold: number;
  /** How long the breaker stays open before one probe (STRIPE_BREAKER_OPEN_SECONDS). */
  breakerOpenSeconds: number;
}

/** A run's settings from the configuration. */
export function flushSettingsOf(config: Config): FlushSettings {
  return {
    meterEventName: config.STRIPE_METER_EVENT_NAME,
    timeBudgetMs: config.FLUSH_TIME_BUDGET_MS,
    maxRecords: config.FLUSH_MAX_RECORDS,
    maxEvents: config.FLUSH_MAX_EVENTS,
    concurrency: config.FLUSH_CONCURRENCY,
    settleSeconds: config.FLUSH_SETTLE_SECONDS,
    sealSeconds: config.FLUSH_SEAL_SECONDS,
    retryDelaySeconds: config.FLUSH_RETRY_DELAY_SECONDS,
    breakerFailureThreshold: config.STRIPE_BREAKER_FAILURE_THRESHOLD,
    breakerOpenSeconds: config.STRIPE_BREAKER_OPEN_SECONDS,
  };
}

/**
 * Fault-injection points for tests: a hook that throws makes the run die exactly there, as a
 * Worker killed mid-run would (nothing after it happens).
 */
export interface FlushHooks {
  /** After a chunk of the stream was drained into buckets (its entry count). */
  afterDrain?(entries: number): void | Promise<void>;
  /** After buckets were sealed, before they are moved to Postgres (their seal ids). */
  afterSeal?(bucketIds: string[]): void | Promise<void>;
  /** After Postgres committed sealed buckets, before they are deleted from Redis. */
  afterMove?(bucketIds: string[]): void | Promise<void>;
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
  /** Stream entries drained (and deleted from the stream: `acknowledged`). */
  read: number;
  /** Usage records counted into buckets; duplicates were counted already (a replayed copy). */
  ingested: number;
  duplicates: number;
  free_skipped: number;
  poison: number;
  acknowledged: number;
  /** Compensations whose admission was never counted: kept apart in their bucket, not billed. */
  orphan_compensations: number;
  /** Wall time spent draining the stream into buckets (the drain scripts' round trips). */
  drain_ms: number;
  /** Usage buckets sealed, and moved to Postgres (new there), by this run. */
  buckets_sealed: number;
  buckets_moved: number;
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
