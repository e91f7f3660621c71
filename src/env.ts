import type { AdmittedRequest } from "./admission/admit";
import type { AccessClaims } from "./auth/tokens";
import type { Config } from "./config";
import type { Services } from "./services";

/**
 * Bindings and secrets the Worker receives. Every value is optional here because it comes from
 * the outside; `parseConfig` checks them once per isolate and names what is missing or malformed.
 */
export interface Env {
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  SUPABASE_URL?: string;
  SUPABASE_SERVICE_ROLE_KEY?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_API_BASE?: string;
  STRIPE_METER_EVENT_NAME?: string;
  JWT_PRIVATE_JWK?: string;
  JWT_PUBLIC_JWKS?: string;
  JWT_SECRET?: string;
  ADMIN_TOKEN?: string;
  RATE_LIMIT_TIERS?: string;
  SCHEMA_FETCH_ALLOWLIST?: string;
  JWT_ALGORITHM?: string;
  TOKEN_TTL_SECONDS?: string;
  ADMISSION_TIMEOUT_MS?: string;
  ADMISSION_FAIL_CLOSED_TIERS?: string;
  SIGNUP_RATE_LIMIT?: string;
  TOKEN_RATE_LIMIT?: string;
  MAX_BODY_BYTES?: string;
  MAX_DOCUMENT_BYTES?: string;
  MAX_SCHEMA_BYTES?: string;
  MAX_DEPTH?: string;
  MAX_ERRORS?: string;
  MAX_VALIDATION_STEPS?: string;
  MAX_BATCH_DOCUMENTS?: string;
  SCHEMA_CACHE_ENTRIES?: string;
  SCHEMA_CACHE_BYTES?: string;
  DEPENDENCY_TIMEOUT_MS?: string;
  FLUSH_TIME_BUDGET_MS?: string;
  FLUSH_MAX_RECORDS?: string;
  FLUSH_MAX_EVENTS?: string;
  FLUSH_CONCURRENCY?: string;
  FLUSH_SETTLE_SECONDS?: string;
  FLUSH_RECLAIM_IDLE_MS?: string;
  FLUSH_RETRY_DELAY_SECONDS?: string;
  STRIPE_BREAKER_FAILURE_THRESHOLD?: string;
  STRIPE_BREAKER_OPEN_SECONDS?: string;
  LOG_LEVEL?: string;
  BILLING_PRICE_LOOKUP_KEYS?: string;
  BILLING_SUCCESS_URL?: string;
  BILLING_CANCEL_URL?: string;
  BILLING_PORTAL_RETURN_URL?: string;
  BILLING_GRACE_DAYS?: string;
  BILLING_ON_SUBSCRIPTION_DELETED?: string;
}

/** What middleware puts on `c.var` for handlers. */
export interface Variables {
  requestId: string;
  config: Config;
  services: Services;
  /** The authenticated subject, once auth has run; logged with the request. */
  subject?: string;
  /** The verified token's claims, on protected routes (set by `requireToken`). */
  auth?: AccessClaims;
  /** The admitted usage of this request (set by `admitUsage`). */
  admission?: AdmittedRequest;
}

export interface AppBindings {
  Bindings: Env;
  Variables: Variables;
}
