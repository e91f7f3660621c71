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
  MAX_BODY_BYTES?: string;
  DEPENDENCY_TIMEOUT_MS?: string;
  LOG_LEVEL?: string;
}

/** What middleware puts on `c.var` for handlers. */
export interface Variables {
  requestId: string;
  config: Config;
  services: Services;
  /** The authenticated subject, once auth has run; logged with the request. */
  subject?: string;
}

export interface AppBindings {
  Bindings: Env;
  Variables: Variables;
}
