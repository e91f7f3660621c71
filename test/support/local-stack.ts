/**
 * The local stack: real Redis and real Postgres (migrations applied) behind the bridges the
 * unchanged production clients speak to, plus the fake Stripe. Returns the Worker configuration
 * that points at them. Shared by `npm run dev` and every test suite that needs real services.
 */
import { DEFAULT_METER_EVENT_NAME } from "../../src/config";
import type { Env } from "../../src/env";
import { generateLocalSecrets, type LocalSecrets } from "./local-secrets";
import { applyMigrations } from "./migrate";
import { createTestDatabase, findOrStartPostgres } from "./postgres";
import { type PostgrestBridge, startPostgrestBridge } from "./postgrest-bridge";
import { type RedisBridge, startRedisBridge } from "./redis-bridge";
import { findOrStartRedis, type RedisServerHandle, startRedisServer } from "./redis-server";
import { type ResendFake, startResendFake } from "./resend-fake";
import { type StripeFake, startStripeFake } from "./stripe-fake";

export type WorkerVars = { [K in keyof Env]-?: string };

export interface LocalStackOptions {
  /**
   * "own": a fresh redis-server on a free port, stopped with the stack (tests: isolated data, and
   * free to stop Redis mid-run). "shared": REDIS_URL, else 127.0.0.1:6379, else start one (dev).
   */
  redis?: "own" | "shared";
  /** With `redis: "own"`: "aof" keeps data across `redis.stop()`/`start()` like durable Upstash. Default "none". */
  redisPersistence?: "none" | "aof";
  /** Use this database URL (dev, which owns its server); otherwise a fresh uniquely named test database on a found or started server, dropped on stop. */
  databaseUrl?: string;
  secrets?: LocalSecrets;
  ports?: { redisBridge?: number; postgrestBridge?: number; stripe?: number; resend?: number };
  log?: (line: string) => void;
}

export interface LocalStack {
  vars: Partial<WorkerVars>;
  secrets: LocalSecrets;
  redis: RedisServerHandle;
  redisBridge: RedisBridge;
  databaseUrl: string;
  postgrest: PostgrestBridge;
  stripe: StripeFake;
  /** The fake Resend: every e-mail the Worker sends (console sign-in links) is recorded here. */
  resend: ResendFake;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  const secrets = options.secrets ?? (await generateLocalSecrets());
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const redis =
      options.redis === "shared"
        ? await findOrStartRedis()
        : await startRedisServer({ persistence: options.redisPersistence });
    cleanups.push(() => redis.stop());
    log(`redis: ${redis.url}${redis.owned ? " (started)" : " (existing)"}`);
    const redisBridge = await startRedisBridge({
      redisUrl: redis.url,
      token: secrets.redisToken,
      port: options.ports?.redisBridge,
    });
    cleanups.push(() => redisBridge.close());

    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      const postgres = await findOrStartPostgres();
      cleanups.push(() => postgres.stop());
      const database = await createTestDatabase(postgres, "schema_meter_test");
      cleanups.push(() => database.drop());
      databaseUrl = database.url;
    }
    const migrations = await applyMigrations(databaseUrl);
    log(`postgres: ${redactUrl(databaseUrl)} (${migrations.applied.length} migrations applied)`);
    const postgrest = await startPostgrestBridge({
      databaseUrl,
      jwtSecret: secrets.postgrestJwtSecret,
      port: options.ports?.postgrestBridge,
      // Registered schemas may be several MB (the registry's own quotas bound them).
      maxBodyBytes: 32 * 1024 * 1024,
    });
    cleanups.push(() => postgrest.close());

    const stripe = await startStripeFake({
      apiKey: secrets.stripeSecretKey,
      webhookSecret: secrets.stripeWebhookSecret,
      port: options.ports?.stripe,
      // The meter the Worker reports to, as `npm run stripe:setup` would create it.
      meters: [DEFAULT_METER_EVENT_NAME],
    });
    cleanups.push(() => stripe.close());

    const resend = await startResendFake({ port: options.ports?.resend });
    cleanups.push(() => resend.close());

    const vars: Partial<WorkerVars> = {
      UPSTASH_REDIS_REST_URL: redisBridge.url,
      UPSTASH_REDIS_REST_TOKEN: secrets.redisToken,
      SUPABASE_URL: postgrest.url,
      SUPABASE_SERVICE_ROLE_KEY: secrets.serviceRoleKey,
      STRIPE_SECRET_KEY: secrets.stripeSecretKey,
      STRIPE_WEBHOOK_SECRET: secrets.stripeWebhookSecret,
      STRIPE_API_BASE: stripe.url,
      JWT_PRIVATE_JWK: JSON.stringify(secrets.jwtPrivateJwk),
      JWT_PUBLIC_JWKS: JSON.stringify(secrets.jwtPublicJwks),
      ADMIN_TOKEN: secrets.adminToken,
      // Checkout's return pages: configuration only, never the request's host (`npm run dev` points them at its own /docs).
      BILLING_SUCCESS_URL: "http://127.0.0.1/billing/done",
      BILLING_CANCEL_URL: "http://127.0.0.1/billing/cancelled",
      RESEND_API_KEY: resend.apiKey,
      RESEND_API_BASE: resend.url,
      EMAIL_FROM: "Schema Meter <console@schema-meter.test>",
    };
    return { vars, secrets, redis, redisBridge, databaseUrl, postgrest, stripe, resend, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
