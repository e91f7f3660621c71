/**
 * The production adapters pointed at a local stack, as the billing and fault harnesses drive the
 * flusher with them: generous Redis and Postgres timeouts for a loaded test machine, and a short
 * Stripe client timeout so the fake's "timeout" failures cost a second, not five.
 */
import { createRedisAdapter } from "../../src/adapters/redis";
import { createStripeAdapter } from "../../src/adapters/stripe";
import { createSupabaseAdapter } from "../../src/adapters/supabase";
import type { LocalStack } from "./local-stack";

export function stackAdapters(stack: LocalStack) {
  return {
    redis: createRedisAdapter({
      url: stack.vars.UPSTASH_REDIS_REST_URL!,
      token: stack.vars.UPSTASH_REDIS_REST_TOKEN!,
      timeoutMs: 5000,
    }),
    db: createSupabaseAdapter({
      url: stack.vars.SUPABASE_URL!,
      serviceRoleKey: stack.vars.SUPABASE_SERVICE_ROLE_KEY!,
      timeoutMs: 10_000,
    }),
    stripe: createStripeAdapter({
      secretKey: stack.vars.STRIPE_SECRET_KEY!,
      apiBase: stack.vars.STRIPE_API_BASE,
      timeoutMs: 1000,
    }),
  };
}
