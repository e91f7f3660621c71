/**
 * Redis key layout of access and admission. One place, so the Worker, the flusher and the operator
 * scripts agree. Every key here is written with a TTL (see each script's header).
 */
const PREFIX = "sm";

/** The usage stream: one entry per usage record (admission, compensation, replay). Read by the flusher. */
export const USAGE_STREAM_KEY = `${PREFIX}:usage-stream`;

/**
 * The start of each key named after a subject (account id) or API key id. The admission script
 * derives these names itself for a call made with an API key (whose subject it reads from the key's
 * entry), so they are spelled once, here, and put into the script's source.
 */
export const KEY_PREFIXES = {
  denySubject: `${PREFIX}:deny:sub:`,
  denyApiKey: `${PREFIX}:deny:key:`,
  tierOverride: `${PREFIX}:tier:`,
  customerOverride: `${PREFIX}:cus:`,
  rateWindow: `${PREFIX}:rw:`,
  /**
   * The rate window's former form, a sorted-set log (`sm:rl:<subject>`, `…:units` beside it): only
   * read, once per window, to carry its units over (see rate-window.ts). A key of its own, so that
   * code from before (after a rollback) never meets the new form.
   */
  rateLog: `${PREFIX}:rl:`,
  periodUsage: `${PREFIX}:usage:`,
  idempotency: `${PREFIX}:idem:`,
  appended: `${PREFIX}:appended:`,
  usageDays: `${PREFIX}:usage-days:`,
  usageHours: `${PREFIX}:usage-hours:`,
  spendCap: `${PREFIX}:cap:`,
} as const;

export const redisKeys = {
  /** Present while every token of this subject (account id) must be refused. */
  denySubject: (subject: string) => `${KEY_PREFIXES.denySubject}${subject}`,
  /** Present while tokens minted from this API key must be refused (the key was revoked). */
  denyApiKey: (apiKeyId: string) => `${KEY_PREFIXES.denyApiKey}${apiKeyId}`,
  /** A tier name that replaces the token's tier (e.g. set on a downgrade before tokens expire). */
  tierOverride: (subject: string) => `${KEY_PREFIXES.tierOverride}${subject}`,
  /** The Stripe customer that replaces the token's (set by billing once a checkout links one). */
  customerOverride: (subject: string) => `${KEY_PREFIXES.customerOverride}${subject}`,
  /** The subject's rate-limit window: at most WINDOW_RUNS runs of admitted units, one string (see rate-window.ts). */
  rateWindow: (subject: string) => `${KEY_PREFIXES.rateWindow}${subject}`,
  /** The window's former form, a sorted-set log: read once, then deleted (see KEY_PREFIXES.rateLog). */
  rateLog: (subject: string) => `${KEY_PREFIXES.rateLog}${subject}`,
  /**
   * The account's own monthly spend cap (PUT /v1/account/spend-cap), mirrored from Postgres so
   * admission reads it in its one round trip: `<units>:<version>`, `:<version>` for none, absent:
   * none (see put-spend-cap and SPEND_CAP_TTL_SECONDS).
   */
  spendCap: (subject: string) => `${KEY_PREFIXES.spendCap}${subject}`,
  /**
   * Units per UTC day of one month (`YYYY-MM`): a hash of day (`DD`) to units admitted less those
   * compensated, kept USAGE_DAYS_TTL_SECONDS after its last write (see usage-counters.ts).
   */
  usageDays: (subject: string, month: string) => `${KEY_PREFIXES.usageDays}${subject}:${month}`,
  /** Units per UTC hour of one day (`YYYY-MM-DD`): a hash of hour (`HH`) to units, kept USAGE_HOURS_TTL_SECONDS. */
  usageHours: (subject: string, day: string) => `${KEY_PREFIXES.usageHours}${subject}:${day}`,
  /** Units admitted for this subject in this UTC calendar month (`YYYY-MM`). */
  periodUsage: (subject: string, period: string) => `${KEY_PREFIXES.periodUsage}${subject}:${period}`,
  /**
   * What the hot path knows of an API key, by the SHA-256 of the key: a hash of state (active,
   * revoked, unknown), subject, key id, tier, customer and expiry (ms); see api-key-cache.ts.
   */
  apiKeyEntry: (keyHash: string) => `${PREFIX}:apikey:${keyHash}`,
  /**
   * An Idempotency-Key's call (by the SHA-256 of the key, per subject): its body fingerprint, state
   * (pending, done), usage id and, once done, the response (see admit-usage, complete-idempotent-call).
   */
  idempotency: (subject: string, keyHash: string) => `${KEY_PREFIXES.idempotency}${subject}:${keyHash}`,
  /** Marks a usage record (id and kind) as already in the stream, so appending it again is a no-op. */
  appended: (usageId: string, kind: string) => `${KEY_PREFIXES.appended}${usageId}:${kind}`,
  /** Version of the billing state last written to this subject's tier override and deny entry. */
  edgeVersion: (subject: string) => `${PREFIX}:edge-version:${subject}`,
  /** Units answered 2xx on a UTC day (`YYYY-MM-DD`), a hash by Stripe customer: the reconciliation's other side. */
  answeredUnits: (day: string) => `${PREFIX}:answered:${day}`,
} as const;

/**
 * The window of account reads (GET /v1/account, /v1/keys, /v1/schemas), apart from the tier's, as
 * GitHub's GET /rate_limit: a caller limited on validation can still look at why. Per account.
 */
export const ACCOUNT_READS_LIMIT = { limit: 60, windowSeconds: 10 } as const;

/**
 * How long the spend cap's mirror lives after each write. It is rewritten from Postgres (only if
 * not older, by version) by PUT/DELETE /v1/account/spend-cap, at every token exchange and at every
 * fill of an API key's entry (each at least hourly for a credential in use, as both last at most an
 * hour), so the TTL only clears accounts no longer used. 35 days.
 */
export const SPEND_CAP_TTL_SECONDS = 35 * 24 * 3600;

/** When the Worker began counting answered units (ms): the reconciliation compares only days counted whole. */
export const ANSWERED_SINCE_KEY = `${PREFIX}:answered-since`;

/** Used when a token names no API key: a key that is never set, so the script's key list stays fixed. */
export const NO_API_KEY = "-";

/**
 * The usage buckets the flusher drains the stream into (src/billing/scripts/drain-usage.ts and
 * seal-buckets.ts): `open` + `<start s>:<customer length>:<customer>:<subject>` is a bucket still
 * taking usage, `sealed` + seal id one waiting to be moved to Postgres; `counted` + usage id says
 * an admission was counted (kept only for ids with a compensation or replay); `bounds` + customer
 * holds the customer's billing period boundaries (unix s), mirrored from Postgres.
 */
export const BUCKET_KEY_PREFIXES = {
  open: `${PREFIX}:bkt:`,
  sealed: `${PREFIX}:bkt-sealed:`,
  counted: `${PREFIX}:counted:`,
  bounds: `${PREFIX}:bounds:`,
} as const;

/** Open buckets by first write (ms): what seal-buckets looks at. */
export const OPEN_BUCKETS_KEY = `${PREFIX}:bkt-open`;
/** Sealed buckets not yet deleted, by seal time (ms): moved to Postgres (again) until deleted. */
export const SEALED_BUCKETS_KEY = `${PREFIX}:bkt-sealed`;
/** recorded_at (ms) of the latest billing period mirrored into the `bounds` keys. */
export const BOUNDS_CURSOR_KEY = `${PREFIX}:bounds-cursor`;

/** The Stripe circuit breaker's state, shared by every isolate (see stripe-breaker.ts). */
export const STRIPE_BREAKER_KEY = `${PREFIX}:breaker:stripe`;

/** Usage stream entries the flusher could not read (malformed), with the reason: never dropped silently. */
export const USAGE_DEAD_LETTER_KEY = `${PREFIX}:usage-dead-letter`;
