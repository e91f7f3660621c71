import { Redis, errors as upstashErrors } from "@upstash/redis/cloudflare";
import type { EdgeState } from "../../access/edge-state";
import { APPLY_EDGE_STATE_LUA } from "../../access/scripts/apply-edge-state";
import type { BreakerCommand, BreakerReply, BreakerState } from "../../billing/breaker-state";
import { STRIPE_BREAKER_LUA } from "../../billing/scripts/stripe-breaker";
import { ADMIT_USAGE_LUA } from "../../metering/scripts/admit-usage";
import { APPEND_USAGE_LUA } from "../../metering/scripts/append-usage";
import { COMPLETE_IDEMPOTENT_CALL_LUA } from "../../metering/scripts/complete-idempotent-call";
import {
  OPEN_BUCKETS_KEY,
  redisKeys,
  SEALED_BUCKETS_KEY,
  STRIPE_BREAKER_KEY,
  USAGE_STREAM_KEY,
} from "../../metering/scripts/keys";
import type {
  AdmitApiKeyUsageInput,
  AdmitUsageInput,
  AdmitUsageReply,
  IdempotentCompletion,
  UsageRecord,
} from "../../metering/usage-record";
import {
  APPEND_MARKER_TTL_SECONDS,
  admitScriptCall,
  type ScriptReply,
  toAdmitReply,
  USAGE_STREAM_TTL_SECONDS,
  usagePeriodOf,
} from "./admission";
import { type AnsweredUnitsCommands, answeredUnitsCommands } from "./answered-units";
import { type ApiKeyEntryCommands, apiKeyEntryCommands } from "./api-key-entry";
import { type SpendCapCommands, spendCapCommands } from "./spend-cap";
import { type UsageBucketCommands, usageBucketCommands } from "./usage-buckets";
import { type UsageCounterCommands, usageCounterCommands } from "./usage-counters";

/** What the Worker needs from Redis. Later features add their scripts here, one method each. */
export interface RedisAdapter
  extends AnsweredUnitsCommands,
    ApiKeyEntryCommands,
    SpendCapCommands,
    UsageBucketCommands,
    UsageCounterCommands {
  /** Round trip to Redis; throws on error or timeout. */
  ping(): Promise<void>;
  /**
   * Deny-list, tier override, sliding window, period counter and usage stream in one script, one
   * request (the first call per script per Redis is two: EVALSHA answered NOSCRIPT, then EVAL).
   * Uses the short admission timeout; throws on error or timeout.
   */
  admitUsage(input: AdmitUsageInput): Promise<AdmitUsageReply>;
  /**
   * The same round trip for a call made with an API key: the key's entry (by its hash) names the
   * caller; `key_missing` when Redis has none (then ask Postgres and `putApiKeyEntry(…, "fill")`).
   */
  admitApiKeyUsage(input: AdmitApiKeyUsageInput): Promise<AdmitUsageReply>;
  /** Keeps an idempotent call's 2xx response for its retries, or frees its key (other statuses). */
  completeIdempotentCall(completion: IdempotentCompletion): Promise<void>;
  /**
   * Appends a compensation or replayed record, once per (id, kind). True if appended now.
   * `certain`: a compensation whose admission is certainly recorded (the Worker had its answer).
   */
  appendUsage(record: UsageRecord, source: "live" | "replay", certain?: boolean): Promise<boolean>;
  /** Refuses every token of a subject (account) for `ttlSeconds`. */
  denySubject(subject: string, ttlSeconds: number): Promise<void>;
  /** Refuses tokens minted from an API key for `ttlSeconds` (at least the longest token lifetime). */
  denyApiKey(apiKeyId: string, ttlSeconds: number): Promise<void>;
  /** Sets (or with `tier` null, clears) the tier that replaces the token's tier. */
  setTierOverride(subject: string, tier: string | null, ttlSeconds: number): Promise<void>;
  /**
   * Billing's view of a subject for the hot path: tier override and deny entry in one script,
   * written only if `version` is not older than the last written one. True if written.
   */
  applyEdgeState(state: EdgeState, ttlSeconds: number): Promise<boolean>;
  /**
   * Usage not in Postgres yet: entries in the usage stream (not drained) plus usage buckets in
   * Redis (open, or sealed and not moved), and the oldest of them (ms: an entry's stream time, a
   * bucket's first write or seal).
   */
  usageStreamBacklog(): Promise<{ entries: number; oldestEntryMs: number | null }>;
  /** The shared Stripe circuit breaker (one atomic script). */
  stripeBreaker(command: BreakerCommand): Promise<BreakerReply>;
}

export interface UpstashRedisOptions {
  url: string;
  token: string;
  /** Per-request budget; the hot path cannot wait long for Redis. */
  timeoutMs: number;
  /** Batch concurrent commands into one /pipeline request. Default true (the client's default). */
  autoPipelining?: boolean;
  /**
   * Ask for replies base64-encoded (the client's default), which keeps binary values intact. Off
   * only where every reply is known to be text (the admission script: numbers and tier names).
   */
  base64Replies?: boolean;
  /**
   * Send and keep Upstash's sync token, so that this client's reads see its own earlier writes on a
   * read replica. Default true (the client's default). Off for a client that only runs scripts,
   * which Upstash runs on the primary, where the token says nothing.
   */
  readYourWrites?: boolean;
}

export interface RedisAdapterOptions extends UpstashRedisOptions {
  /** Budget of the admission round trip; default `timeoutMs`. */
  admissionTimeoutMs?: number;
}

/** The Upstash REST client with a timeout on every call and no hidden retries. */
export function createUpstashClient({
  url,
  token,
  timeoutMs,
  autoPipelining,
  base64Replies,
  readYourWrites,
}: UpstashRedisOptions): Redis {
  return new Redis({
    url,
    token,
    // A fresh signal per request: a timed-out call is aborted, not retried behind our back.
    signal: () => AbortSignal.timeout(timeoutMs),
    retry: false,
    enableTelemetry: false,
    latencyLogging: false,
    automaticDeserialization: false,
    ...(autoPipelining === false && { enableAutoPipelining: false }),
    ...(base64Replies === false && { responseEncoding: false }),
    ...(readYourWrites === false && { readYourWrites: false }),
  });
}

/**
 * A Redis failure for logs: the Upstash client appends the whole command (keys, subjects) to its
 * error messages; the reason is enough and keeps log lines short.
 */
export function describeRedisError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/, command was: [\s\S]*$/, "");
}

/**
 * Whether a failed call may still have run in Redis. An error reply from the REST server (Redis
 * refused the command, or the server could not reach Redis) is an answer: nothing ran. A timeout,
 * an abort or a broken connection may have left the command on its way, to run after we gave up.
 */
export function mayHaveRun(error: unknown): boolean {
  return (
    !(error instanceof upstashErrors.UpstashError) || error instanceof upstashErrors.UpstashJSONParseError
  );
}

const BREAKER_VERDICTS = { 0: "refused", 1: "allowed", 2: "probe" } as const;
/** The breaker hash outlives its last change by a day; an abandoned breaker resets to closed. */
const BREAKER_KEY_TTL_SECONDS = 24 * 3600;

export function createRedisAdapter({ admissionTimeoutMs, ...options }: RedisAdapterOptions): RedisAdapter {
  const client = createUpstashClient(options);
  // Admission gets its own client: a short timeout, and no batching with unrelated commands, so one
  // admission is exactly one HTTP request that fails (or not) on its own. Its replies are numbers
  // and tier names, so they skip base64 (decoding it was 1-2% of the hot path's CPU). It runs only
  // the admission script, on the primary: no sync token to send and read back on every call.
  const admissionClient = createUpstashClient({
    ...options,
    timeoutMs: admissionTimeoutMs ?? options.timeoutMs,
    autoPipelining: false,
    base64Replies: false,
    readYourWrites: false,
  });
  // createScript: EVALSHA first; on NOSCRIPT, EVAL (which also caches the script in Redis).
  const admitScript = admissionClient.createScript<ScriptReply>(ADMIT_USAGE_LUA);
  const appendScript = client.createScript<number>(APPEND_USAGE_LUA);
  const completeIdempotentScript = client.createScript<number>(COMPLETE_IDEMPOTENT_CALL_LUA);
  const edgeStateScript = client.createScript<number>(APPLY_EDGE_STATE_LUA);
  const breakerScript = client.createScript<[number, string, number, number]>(STRIPE_BREAKER_LUA);

  return {
    async ping() {
      const reply = await client.ping();
      if (reply !== "PONG") throw new Error(`unexpected PING reply: ${String(reply)}`);
    },

    async admitUsage(input) {
      const { keys, args } = admitScriptCall(input);
      return toAdmitReply(await admitScript.exec(keys, args));
    },

    async admitApiKeyUsage(input) {
      const { keys, args } = admitScriptCall(input);
      return toAdmitReply(await admitScript.exec(keys, args));
    },

    async completeIdempotentCall({ subject, keyHash, usageId, response, ttlSeconds }) {
      await completeIdempotentScript.exec(
        [redisKeys.idempotency(subject, keyHash)],
        [
          usageId,
          String(response.status),
          response.stored ? "1" : "0",
          response.body,
          String(response.units),
          String(ttlSeconds),
        ],
      );
    },

    async appendUsage(record, source, certain = false) {
      const { period, counterExpiresAt } = usagePeriodOf(record.occurredAtMs);
      const reply = await appendScript.exec(
        [
          redisKeys.appended(record.id, record.kind),
          redisKeys.periodUsage(record.subject, period),
          USAGE_STREAM_KEY,
        ],
        [
          record.id,
          record.kind,
          record.requestId,
          record.subject,
          record.stripeCustomerId ?? "",
          record.tier,
          String(record.units),
          new Date(record.occurredAtMs).toISOString(),
          String(counterExpiresAt),
          String(APPEND_MARKER_TTL_SECONDS),
          String(USAGE_STREAM_TTL_SECONDS),
          source,
          certain ? "1" : "",
        ],
      );
      return Number(reply) === 1;
    },

    async denySubject(subject, ttlSeconds) {
      await client.set(redisKeys.denySubject(subject), "1", { ex: ttlSeconds });
    },

    async denyApiKey(apiKeyId, ttlSeconds) {
      await client.set(redisKeys.denyApiKey(apiKeyId), "1", { ex: ttlSeconds });
    },

    async setTierOverride(subject, tier, ttlSeconds) {
      if (tier === null) await client.del(redisKeys.tierOverride(subject));
      else await client.set(redisKeys.tierOverride(subject), tier, { ex: ttlSeconds });
    },

    async applyEdgeState({ subject, tier, customer, deny, version }, ttlSeconds) {
      const reply = await edgeStateScript.exec(
        [
          redisKeys.edgeVersion(subject),
          redisKeys.tierOverride(subject),
          redisKeys.denySubject(subject),
          redisKeys.customerOverride(subject),
        ],
        [String(version), tier, deny ? "1" : "0", String(ttlSeconds), customer ?? ""],
      );
      return Number(reply) === 1;
    },

    async usageStreamBacklog() {
      const [entries, oldest, open, oldestOpen, sealed, oldestSealed] = await Promise.all([
        client.xlen(USAGE_STREAM_KEY),
        client.xrange(USAGE_STREAM_KEY, "-", "+", 1),
        client.zcard(OPEN_BUCKETS_KEY),
        client.zrange(OPEN_BUCKETS_KEY, 0, 0, { withScores: true }),
        client.zcard(SEALED_BUCKETS_KEY),
        client.zrange(SEALED_BUCKETS_KEY, 0, 0, { withScores: true }),
      ]);
      // Without automatic deserialization XRANGE may answer [[id, fields]] instead of {id: fields}.
      const oldestId = Array.isArray(oldest) ? String(oldest[0]?.[0] ?? "") : Object.keys(oldest ?? {})[0];
      const times = [
        oldestId ? Number(oldestId.split("-")[0]) : Number.NaN,
        Number((oldestOpen as unknown[])[1] ?? Number.NaN),
        Number((oldestSealed as unknown[])[1] ?? Number.NaN),
      ].filter((ms) => Number.isFinite(ms));
      return {
        entries: Number(entries) + Number(open) + Number(sealed),
        oldestEntryMs: times.length > 0 ? Math.min(...times) : null,
      };
    },

    ...answeredUnitsCommands(client),
    ...apiKeyEntryCommands(client),
    ...spendCapCommands(client),
    ...usageBucketCommands(client),
    ...usageCounterCommands(client),

    async stripeBreaker(command) {
      const [verdict, state, failures, openUntil] = await breakerScript.exec(
        [STRIPE_BREAKER_KEY],
        [
          command.op,
          String(command.nowMs),
          String(command.failureThreshold),
          String(command.openMs),
          String(command.probeLeaseMs),
          String(BREAKER_KEY_TTL_SECONDS),
          command.token,
          String(command.failures ?? 1),
        ],
      );
      return {
        verdict: BREAKER_VERDICTS[Number(verdict) as 0 | 1 | 2] ?? "refused",
        state: state as BreakerState,
        consecutiveFailures: Number(failures),
        openUntilMs: Number(openUntil),
      };
    },
  };
}

/** A Redis that is never reachable: every call rejects. For tests, and to show the fail-open/closed paths. */
export function createUnreachableRedisAdapter(): RedisAdapter {
  const unreachable = async (): Promise<never> => {
    throw new Error("redis unreachable");
  };
  return {
    ping: unreachable,
    admitUsage: unreachable,
    admitApiKeyUsage: unreachable,
    putApiKeyEntry: unreachable,
    completeIdempotentCall: unreachable,
    appendUsage: unreachable,
    denySubject: unreachable,
    denyApiKey: unreachable,
    setTierOverride: unreachable,
    applyEdgeState: unreachable,
    drainUsage: unreachable,
    sealUsageBuckets: unreachable,
    releaseUsageBuckets: unreachable,
    billingBoundariesCursor: unreachable,
    syncBillingBoundaries: unreachable,
    usageStreamBacklog: unreachable,
    countAnsweredUnits: unreachable,
    answeredUnits: unreachable,
    answeredSince: unreachable,
    putSpendCap: unreachable,
    usageCounters: unreachable,
    stripeBreaker: unreachable,
  };
}
