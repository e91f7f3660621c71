import { z } from "zod";
import { setLogLevel } from "./lib/log";

/** Event name of the billing meter when STRIPE_METER_EVENT_NAME is not set. */
export const DEFAULT_METER_EVENT_NAME = "api_validation";

/**
 * One rate-limit tier: `limit` units (a batch counts its documents) per sliding window of
 * `windowSeconds`, and optionally at most `monthlyQuota` units per UTC calendar month (absent: no
 * monthly quota; a paying account may still set its own spend cap, PUT /v1/account/spend-cap).
 */
const tierSchema = z.object({
  limit: z.number().int().positive(),
  windowSeconds: z.number().int().positive(),
  monthlyQuota: z.number().int().positive().optional(),
});

/** A sliding window: `limit` units per `windowSeconds`. */
export type RateLimitWindow = z.infer<typeof tierSchema>;

/** Tier name to its sliding window (RATE_LIMIT_TIERS). */
export type RateLimitTiers = Record<string, RateLimitWindow>;

/** Defaults from the original design: free 5 per 10 s (and 1,000 units a month), pro 100 per 10 s. */
export const DEFAULT_RATE_LIMIT_TIERS = {
  free: { limit: 5, windowSeconds: 10, monthlyQuota: 1000 },
  pro: { limit: 100, windowSeconds: 10 },
} as const satisfies Record<string, z.infer<typeof tierSchema>>;

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const secret = z.string().trim().min(1, "must not be empty");

/** A JSON-encoded setting, parsed and then checked with `schema`. */
function jsonSetting<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const integerSetting = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// Limits sized for real schemas (issue 13), measured on the largest schemas of the real-world corpus
// (test/fixtures/real-world, `npm run probe:compile`), node 20 on a 2-core machine, warm:
//   vega-lite 1.9 MB: 8,368 subschemas, 130-190 ms CPU, 28 MB heap at peak, 19.6 MB retained
//   biome 0.98 MB:   12,633 subschemas, 150-230 ms CPU, 38 MB heap at peak, 26.8 MB retained
// The measured weight model (CompiledSchema.retainedBytes) gives 41 and 51 MB for them: it rounds up.
// A 4 MiB body carries a schema twice vega-lite's size with its document; compiling spends from its
// own budget, MAX_COMPILE_STEPS (each subschema 80 units, the measured CPU; vega-lite 733k units,
// biome 1.27M), and is refused past MAX_COMPILED_SCHEMA_BYTES of weight before the memory is taken,
// so a big schema is no CPU or memory DoS.

/** The highest MAX_DEPTH can be set to: no stored or accepted JSON nests deeper. */
export const MAX_DEPTH_CEILING = 1000;

/** Default of MAX_BODY_BYTES, and so of MAX_SCHEMA_BYTES: 4 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Default of MAX_REMOTE_DOCUMENTS: real schema families (CycloneDX, AsyncAPI, OpenAPI) split into tens of files. */
export const DEFAULT_MAX_REMOTE_DOCUMENTS = 50;
/** Default of MAX_REMOTE_SCHEMA_BYTES: 4 MiB of remote documents per schema. */
export const DEFAULT_MAX_REMOTE_SCHEMA_BYTES = 4 * 1024 * 1024;
/** Default of MAX_VALIDATION_STEPS: 400,000 work units (the reasoning is on the setting). */
export const DEFAULT_MAX_VALIDATION_STEPS = 400_000;
/** Default of MAX_DOCUMENT_STEPS: 200,000 work units (the reasoning is on the setting). */
export const DEFAULT_MAX_DOCUMENT_STEPS = 200_000;
/** Default of MAX_COMPILE_STEPS: 2,000,000 work units (the reasoning is on the setting). */
export const DEFAULT_MAX_COMPILE_STEPS = 2_000_000;
/** Default of MAX_ERROR_BYTES: 128 KiB of errors' JSON per request. */
export const DEFAULT_MAX_ERROR_BYTES = 128 * 1024;
/** Default of MAX_COMPILED_SCHEMA_BYTES: 64 MiB of measured weight (biome: 51 MB of weight, 27 MB real). */
export const DEFAULT_MAX_COMPILED_SCHEMA_BYTES = 64 * 1024 * 1024;

const configSchema = z.object({
  /** Upstash Redis REST endpoint: admission, usage stream, deny-list, breaker. Required. */
  UPSTASH_REDIS_REST_URL: httpUrl,
  /** Upstash Redis REST token. Required. */
  UPSTASH_REDIS_REST_TOKEN: secret,
  /** Supabase (PostgREST) base URL: accounts, keys, ledger. Required. */
  SUPABASE_URL: httpUrl,
  /** Supabase service-role key; the Worker calls named SQL functions only. Required. */
  SUPABASE_SERVICE_ROLE_KEY: secret,
  /** Stripe secret key: meter events, Checkout, Customer Portal. Required. */
  STRIPE_SECRET_KEY: secret,
  /** Signing secret of the Stripe webhook endpoint; without it POST /webhooks/stripe refuses every event. */
  STRIPE_WEBHOOK_SECRET: secret.optional(),
  /** Signing secret of the Stripe event destination with thin payloads (meter error reports) that
   * POST /webhooks/stripe/thin-events receives; default STRIPE_WEBHOOK_SECRET. */
  STRIPE_EVENT_DESTINATION_SECRET: secret.optional(),
  /** Stripe API base URL; default Stripe's own (tests point it at the Stripe fake). */
  STRIPE_API_BASE: httpUrl.optional(),
  /** Event name of the billing meter. Default "api_validation". */
  STRIPE_METER_EVENT_NAME: z
    .string()
    .regex(/^[a-z0-9_]{1,100}$/, "must be 1-100 characters of a-z, 0-9 and _")
    .default(DEFAULT_METER_EVENT_NAME),
  /** Ed25519 private JWK (with `kid`) that signs access tokens. */
  JWT_PRIVATE_JWK: jsonSetting(z.record(z.string(), z.unknown())).optional(),
  /** Ed25519 public keys that verify access tokens (two during a rotation), served at /.well-known/jwks.json. */
  JWT_PUBLIC_JWKS: jsonSetting(
    z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }),
  ).optional(),
  /** HS256 secret (at least 32 characters), when no Ed25519 key is configured. */
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Bearer token of the operator endpoints (/admin/*); unset, they answer 404. */
  ADMIN_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  /**
   * Tier name to `{limit, windowSeconds, monthlyQuota?}`. Default free 5 per 10 s and 1,000 units a
   * month, pro 100 per 10 s with no monthly quota.
   */
  RATE_LIMIT_TIERS: jsonSetting(z.record(z.string(), tierSchema)).default(DEFAULT_RATE_LIMIT_TIERS),
  /** Hosts a `schema_url` or remote `$ref` may be fetched from, comma-separated. Default none. */
  SCHEMA_FETCH_ALLOWLIST: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    ),
  /**
   * Browser origins allowed to call the API (CORS), comma-separated, e.g.
   * `https://app.example.com,https://console.example.com`; `*` allows any origin (no credentials
   * are ever sent: the API authenticates by bearer token). Default none: no CORS headers.
   */
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((origin) => origin.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.union([
          z.literal("*"),
          z.string().regex(/^https?:\/\/[^/\s]+$/, "each origin is scheme://host[:port]"),
        ]),
      ),
    ),
  /** Token algorithm, pinned (never read from a token): EdDSA when either Ed25519 setting is set, else HS256 with JWT_SECRET. */
  JWT_ALGORITHM: z.enum(["EdDSA", "HS256"]).optional(),
  /** Lifetime of tokens from POST /v1/token. Default 900 (15 min); at most 3600. */
  TOKEN_TTL_SECONDS: integerSetting(60, 3600).default(900),
  /** Budget of the one admission round trip to Redis; past it the fail-open/closed rule applies.
   * Default 100, from the latency model in docs/deploy.md ("Admission latency"): the Worker placed
   * beside the Upstash primary (wrangler.toml `placement`), a round trip of a few ms, a cold
   * connection's handshakes and the tail of a busy Redis inside it. */
  ADMISSION_TIMEOUT_MS: integerSetting(5, 1000).default(100),
  /** Tiers refused (503) while Redis is unreachable; every other tier is served and billed later. Default "free". */
  ADMISSION_FAIL_CLOSED_TIERS: z
    .string()
    .default("free")
    .transform((list) =>
      list
        .split(",")
        .map((tier) => tier.trim())
        .filter(Boolean),
    ),
  /** POST /v1/signup per client IP. Default 5 per hour. */
  SIGNUP_RATE_LIMIT: jsonSetting(tierSchema).default({ limit: 5, windowSeconds: 3600 }),
  /** Prefix length an IPv6 client counts by in the per-IP limits (sign-up, token): one subscriber is
   * given a /64 (often a /56 or /48), so counting single addresses would give one person 2^64 of
   * them. IPv4 counts by the address. Default 64. */
  CLIENT_IPV6_PREFIX: integerSetting(16, 128).default(64),
  /** POST /v1/token per client IP (each call is a Postgres lookup). Default 60 per minute. */
  TOKEN_RATE_LIMIT: jsonSetting(tierSchema).default({ limit: 60, windowSeconds: 60 }),
  /** Largest request body (schema and documents). Default 4 MiB: a multi-MB schema with its document. */
  MAX_BODY_BYTES: integerSetting(1024, 32 * 1024 * 1024).default(DEFAULT_MAX_BODY_BYTES),
  /** Largest document in /v1/validate: `json` text, or `data` measured by its JSON text. Default 100 kB. */
  MAX_DOCUMENT_BYTES: integerSetting(1, 10 * 1024 * 1024).default(100_000),
  /** Largest schema (inline, by canonical JSON; or fetched by schema_url). Default MAX_BODY_BYTES (see schemaByteLimit). */
  MAX_SCHEMA_BYTES: integerSetting(1, 32 * 1024 * 1024).optional(),
  /** Remote documents one schema may pull in through `$ref`. Default 50. */
  MAX_REMOTE_DOCUMENTS: integerSetting(0, 1000).default(DEFAULT_MAX_REMOTE_DOCUMENTS),
  /** JSON bytes of the remote documents one schema pulls in, together. Default 4 MiB. */
  MAX_REMOTE_SCHEMA_BYTES: integerSetting(0, 64 * 1024 * 1024).default(DEFAULT_MAX_REMOTE_SCHEMA_BYTES),
  /** Largest compiled schema, by its measured weight (CompiledSchema.retainedBytes); refused while
   * compiling, before the memory is taken. Default 64 MiB. */
  MAX_COMPILED_SCHEMA_BYTES: integerSetting(1024 * 1024, 1024 * 1024 * 1024).default(
    DEFAULT_MAX_COMPILED_SCHEMA_BYTES,
  ),
  /** Deepest document or schema nesting. Default 64. */
  MAX_DEPTH: integerSetting(1, MAX_DEPTH_CEILING).default(64),
  /** Errors reported per document before `truncated`. Default 100. */
  MAX_ERRORS: integerSetting(1, 10_000).default(100),
  /** Work units per request, the CPU budget (Workers' clocks stand still while computing): subschema
   * evaluations, elements scanned, regex steps, error units; past it 422 `cpu_budget`. Default
   * 400,000: the dearest unit measured (test/support/security-probe.ts) takes about 160 ns in
   * workerd here, so one request computes for at most about 65 ms, in stretches of at most
   * MAX_DOCUMENT_STEPS (a batch's documents hand the thread back between them). */
  MAX_VALIDATION_STEPS: integerSetting(1000, 100_000_000).default(DEFAULT_MAX_VALIDATION_STEPS),
  /** Work units one document's validation may spend of the request's MAX_VALIDATION_STEPS. A
   * document's validation is one stretch of the isolate's thread (it cannot pause), so this bounds
   * how long other requests on the isolate wait: default 200,000, about 25-30 ms of CPU at the
   * dearest unit here (`npm run probe:security`), while the most any document of the real-world
   * corpus needs is 84,975 (a GitHub push webhook against the octokit schema, `basic` output). */
  MAX_DOCUMENT_STEPS: integerSetting(1000, 100_000_000).default(DEFAULT_MAX_DOCUMENT_STEPS),
  /** Work units compiling a schema not yet cached may spend (metaschema check, 80 per subschema,
   * patterns by size); past it 422 `cpu_budget`. Apart from MAX_VALIDATION_STEPS, so that a verdict
   * never depends on whether the schema was cached. Default 2,000,000: the largest real schemas
   * (biome, 1.27M units) fit, at about 0.3 s of CPU once per isolate. */
  MAX_COMPILE_STEPS: integerSetting(1000, 100_000_000).default(DEFAULT_MAX_COMPILE_STEPS),
  /** JSON bytes enrichment may add per request (defaults filled plus annotations); past it `enrichmentTruncated`. Default 256 KiB. */
  MAX_ENRICHMENT_BYTES: integerSetting(0, 100 * 1024 * 1024).default(256 * 1024),
  /** JSON bytes of the errors a verdict lists per request (shared by a batch's documents); past it
   * `truncated`. Default 128 KiB. */
  MAX_ERROR_BYTES: integerSetting(1024, 100 * 1024 * 1024).default(DEFAULT_MAX_ERROR_BYTES),
  /** Schema registry: per tier, how many names an account may keep active and how many bytes of
   * versions it may store; a tier not listed gets the smallest. Default free 10 / 5 MB, pro 1,000 / 500 MB. */
  SCHEMA_REGISTRY_QUOTAS: jsonSetting(
    z.record(
      z.string(),
      z.object({ schemas: z.number().int().min(0), bytes: z.number().int().min(0) }).strict(),
    ),
  ).default({ free: { schemas: 10, bytes: 5_000_000 }, pro: { schemas: 1000, bytes: 500_000_000 } }),
  /** Schema registry: seconds an isolate trusts what `orders` (latest) stands for, so how long a
   * publish or a retirement takes to reach every isolate. Default 5. */
  SCHEMA_LATEST_TTL_SECONDS: integerSetting(0, 3600).default(5),
  /** Documents per /v1/validate/batch call. Default 100. */
  MAX_BATCH_DOCUMENTS: integerSetting(1, 1000).default(100),
  /** Compiled schemas cached per isolate. Default 500. */
  SCHEMA_CACHE_ENTRIES: integerSetting(1, 100_000).default(500),
  /** Approximate bytes of compiled schemas cached per isolate. Default 32 MiB. */
  SCHEMA_CACHE_BYTES: integerSetting(1024, 1024 * 1024 * 1024).default(32 * 1024 * 1024),
  /** Budget of one call to Redis or Postgres (Stripe gets at least 5000). Default 1500. */
  DEPENDENCY_TIMEOUT_MS: integerSetting(10, 30_000).default(1500),
  /** Usage flusher: wall-clock budget of one run (cron or POST /admin/flush). Default 45000 ms:
   * under the one-minute cron interval (a run overlapping the next is safe, only wasteful) and far
   * under Cloudflare's 15-minute wall limit for a cron invocation (docs/deploy.md, "Drain rate"). */
  FLUSH_TIME_BUDGET_MS: integerSetting(1000, 600_000).default(45_000),
  /** Usage flusher: usage stream entries drained per run. Default 2000000: seven minutes of the
   * hot path's measured peak here (4,500/s = 270,000 a minute), in 1,000 drain scripts of 2,000
   * run inside Redis (docs/deploy.md, "Drain rate"). */
  FLUSH_MAX_RECORDS: integerSetting(1, 10_000_000).default(2_000_000),
  /** Usage flusher: meter events sent per run. Default 2000 (about 4,300 subrequests with the
   * reads: under the Paid plan's 10,000 per invocation; set about 10 on the Free plan's 50). */
  FLUSH_MAX_EVENTS: integerSetting(1, 10_000).default(2000),
  /** Usage flusher: meter events in flight at once, each of a different customer (Stripe takes one
   * per customer and meter; a Worker holds 6 connections at once). Default 6. */
  FLUSH_CONCURRENCY: integerSetting(1, 50).default(6),
  /** Usage flusher: stream entries are drained once this old, and a usage bucket is sealed once
   * quiet this long, so a refunded request's compensation nets out first. Default 30. */
  FLUSH_SETTLE_SECONDS: integerSetting(0, 3600).default(30),
  /** Usage flusher: a usage bucket (customer, account, hour) open this long is sealed and billed
   * even while its customer keeps calling: Postgres grows by one row per customer per this time
   * at most. Default 300. */
  FLUSH_SEAL_SECONDS: integerSetting(1, 3600).default(300),
  /** Usage flusher: wait before resending after a 5xx or timeout (a 429's Retry-After wins if longer). Default 30 s. */
  FLUSH_RETRY_DELAY_SECONDS: integerSetting(0, 3600).default(30),
  /** Stripe circuit breaker: consecutive failed calls that open it. Default 5. */
  STRIPE_BREAKER_FAILURE_THRESHOLD: integerSetting(1, 1000).default(5),
  /** Stripe circuit breaker: seconds it stays open before letting one probe through. Default 60. */
  STRIPE_BREAKER_OPEN_SECONDS: integerSetting(1, 3600).default(60),
  /** Sentry DSN of the project errors are reported to (5xx, unhandled exceptions, cron check-ins);
   * unset, error tracking is off. See docs/deploy.md, "Error tracking". */
  SENTRY_DSN: httpUrl.optional(),
  /** Environment name Sentry files events under. Default "production". */
  SENTRY_ENVIRONMENT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _, . and -")
    .optional(),
  /** Release events are tagged with (deploys set it to the commit). Default "schema-meter@<API version>". */
  SENTRY_RELEASE: z.string().min(1).max(200).optional(),
  /** Lowest level written to the log. Default "info". */
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Tier to Stripe price lookup key, for POST /v1/billing/checkout and to map webhooks' prices back to tiers. Default {"pro":"schema_meter_pro"}. */
  BILLING_PRICE_LOOKUP_KEYS: jsonSetting(
    z.record(
      z.string().regex(/^[a-z0-9_-]{1,32}$/, "tier names are a-z, 0-9, _ and -"),
      z.string().min(1).max(200),
    ),
  ).default({ pro: "schema_meter_pro" }),
  /** Where Stripe Checkout sends the customer after paying; required for checkout and the portal. */
  BILLING_SUCCESS_URL: httpUrl.optional(),
  /** Where Stripe Checkout sends the customer who gives up; default BILLING_SUCCESS_URL. */
  BILLING_CANCEL_URL: httpUrl.optional(),
  /** Where the Customer Portal's "return" link goes; default BILLING_SUCCESS_URL. */
  BILLING_PORTAL_RETURN_URL: httpUrl.optional(),
  /** Resend API key: the console's sign-in links and the dunning e-mails are sent through it. Unset:
   * sign-in by e-mail is refused (sign-up still works) and dunning e-mails wait in the outbox. */
  RESEND_API_KEY: secret.optional(),
  /** Resend API base URL; default Resend's own (tests and `npm run dev` point it at the local fake). */
  RESEND_API_BASE: httpUrl.optional(),
  /** Sender of the console's and the dunning e-mails, `Name <address>` on a domain verified in Resend. */
  EMAIL_FROM: z.string().min(3).max(200).default("Schema Meter <console@example.com>"),
  /** Console sign-in e-mails requested per client IP (each account also has at most 5 live links). Default 10 per hour. */
  CONSOLE_SIGN_IN_RATE_LIMIT: jsonSetting(tierSchema).default({ limit: 10, windowSeconds: 3600 }),
  /** Public URL of the console (e.g. https://api.example.com/console): e-mailed links point here,
   * never at the request's Host (the caller's to choose). Unset: sign-in by e-mail is refused. */
  CONSOLE_URL: httpUrl.optional(),
  /** Days a past-due account keeps access after a failed payment (invoice.payment_failed). Default 3. */
  BILLING_GRACE_DAYS: integerSetting(0, 60).default(3),
  /** What customer.subscription.deleted does: "downgrade" to free (default) or "revoke" access (account suspended). */
  BILLING_ON_SUBSCRIPTION_DELETED: z.enum(["downgrade", "revoke"]).default("downgrade"),
  /** Stripe's Customer Portal login link (Dashboard, Settings, Billing, Customer portal): dunning
   * e-mails link to it so the customer can fix the card. Default: CONSOLE_URL (its Manage billing
   * button). Never a portal session URL: those expire in minutes and sign in whoever holds them. */
  BILLING_PORTAL_LOGIN_URL: httpUrl.optional(),
  /** Hours before the grace period ends that the reminder e-mail goes out; keep it below
   * BILLING_GRACE_DAYS × 24 (or the reminder follows the failure e-mail at once). Default 24. */
  DUNNING_REMINDER_HOURS: integerSetting(1, 1440).default(24),
  /** Seconds before a dunning e-mail the provider refused is tried again, doubled per further
   * failure up to 6 hours. Default 60. */
  DUNNING_RETRY_SECONDS: integerSetting(1, 3600).default(60),
  /** Attempts before a dunning e-mail is given up on (dead: counted in GET /admin/metrics). Default 10. */
  DUNNING_MAX_ATTEMPTS: integerSetting(1, 100).default(10),
});

export type Config = z.infer<typeof configSchema>;

/** The largest schema a request may use: MAX_SCHEMA_BYTES, by default the request body limit. */
export function schemaByteLimit(config: Pick<Config, "MAX_SCHEMA_BYTES" | "MAX_BODY_BYTES">): number {
  return config.MAX_SCHEMA_BYTES ?? config.MAX_BODY_BYTES;
}

/**
 * Bindings and secrets the Worker receives: one optional string per setting of `configSchema`
 * (its doc is there). `parseConfig` checks them once per isolate and names what is missing or malformed.
 */
export type Env = { [Name in keyof typeof configSchema.shape]?: string };

/** Every setting name the Worker reads; `npm run dev` passes any of them set in its environment through. */
export const CONFIG_NAMES = Object.keys(configSchema.shape) as (keyof Config)[];

/** Thrown when the environment is missing or has malformed settings; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Parse and check every setting; the error names each missing or malformed one (never its value). */
export function parseConfig(env: Env): Config {
  // Empty strings (an unset `[vars]` entry, `KEY=` in .dev.vars) mean "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join(".") || "configuration";
        return issue.code === "invalid_type" && issue.input === undefined
          ? `${name} is missing`
          : `${name} ${issue.message}`;
      }),
    );
  }
  return result.data;
}

const cache = new WeakMap<object, Config | ConfigError>();

/** `parseConfig`, once per isolate (Workers hand every request the same `env` object); applies LOG_LEVEL. */
export function loadConfig(env: Env): Config {
  let entry = cache.get(env);
  if (!entry) {
    try {
      entry = parseConfig(env);
      setLogLevel(entry.LOG_LEVEL);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      entry = error;
    }
    cache.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}
