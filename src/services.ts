import { createRedisAdapter, type RedisAdapter } from "./adapters/redis";
import { createStripeAdapter, type StripeAdapter } from "./adapters/stripe";
import { createSupabaseAdapter, type DatabaseAdapter } from "./adapters/supabase";
import type { Config } from "./config";

/** Every outside dependency, behind its interface; tests swap any of them through `newApp`. */
export interface Services {
  redis: RedisAdapter;
  db: DatabaseAdapter;
  stripe: StripeAdapter;
}

export type ServicesFactory = (config: Config) => Services;

/** The real adapters, built from configuration. */
export const createServices: ServicesFactory = (config) => ({
  redis: createRedisAdapter({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
  }),
  db: createSupabaseAdapter({
    url: config.SUPABASE_URL,
    serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
    timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
  }),
  stripe: createStripeAdapter({
    secretKey: config.STRIPE_SECRET_KEY,
    apiBase: config.STRIPE_API_BASE,
    timeoutMs: Math.max(config.DEPENDENCY_TIMEOUT_MS, 5000),
  }),
});
