/**
 * Harness of the access and admission suites: the app factory (`newApp`) in Node against the real
 * local stack (own redis-server, Postgres test database with migrations, both behind the bridges
 * the production clients speak to). Adds a direct RESP connection and a pg connection so tests can
 * look at what the code wrote, and a fake ExecutionContext whose waitUntil work can be awaited.
 */
import pg from "pg";
import { knownApiKeyOf, resolveApiKey, TOKEN_DENY_TTL_SECONDS } from "../../../src/access/accounts";
import { apiKeyEntryOf } from "../../../src/access/api-key-entry";
import { hashApiKey } from "../../../src/access/api-keys";
import { createRedisAdapter, type RedisAdapter } from "../../../src/adapters/redis";
import { createSupabaseAdapter, type DatabaseAdapter } from "../../../src/adapters/supabase";
import { type App, newApp } from "../../../src/app";
import type { Env } from "../../../src/env";
import { type LocalStack, startLocalStack } from "../../support/local-stack";
import { parseRedisUrl, plain, RespClient, type RespReply } from "../../support/resp";

export { plain };

export interface AccessHarness {
  stack: LocalStack;
  env: Env;
  app: App;
  /** `app.request` with the env and a fake ExecutionContext. */
  request(path: string, init?: RequestInit, env?: Env): Promise<Response>;
  /** Awaits every `waitUntil` promise so far. */
  settle(): Promise<void>;
  /** The production Redis adapter, through the bridge. */
  redis: RedisAdapter;
  db: DatabaseAdapter;
  /** Raw Redis command (not through the bridge; not counted). */
  redisCommand(...args: string[]): Promise<RespReply>;
  sql: pg.Client;
  /** A new account on `tier` with its API key and a fresh token. */
  account(tier?: string): Promise<{ id: string; apiKey: string; token: string; email: string }>;
  stop(): Promise<void>;
}

let emails = 0;

export interface AccessHarnessOptions {
  /** Settings over the local stack's. */
  env?: Partial<Env>;
  /** Extra routes for the test (registered before the first request, as Hono requires). */
  routes?: (app: App) => void;
}

export async function startAccessHarness({
  env: overrides = {},
  routes,
}: AccessHarnessOptions = {}): Promise<AccessHarness> {
  const stack = await startLocalStack({ redis: "own" });
  // A generous admission budget by default, so a loaded test machine does not trip fail-open/closed;
  // the outage suite sets the production default (50 ms) where it tests exactly that.
  const env: Env = { ...stack.vars, ADMISSION_TIMEOUT_MS: "1000", ...overrides };
  // Set-up calls (sign-up, token) get a generous budget even where a suite tests a tight one: a
  // suite about admission must not fail in its set-up because a cold Redis answered in 60 ms.
  const setupEnv: Env = { ...env, ADMISSION_TIMEOUT_MS: "1000" };
  const app = newApp();
  routes?.(app);
  const pending: Promise<unknown>[] = [];
  const executionCtx = {
    waitUntil: (promise: Promise<unknown>) => {
      pending.push(promise);
    },
    passThroughOnException: () => {},
    props: {},
  } as unknown as ExecutionContext;
  const request = (path: string, init?: RequestInit, requestEnv: Env = env) =>
    Promise.resolve(app.request(`http://api.test${path}`, init, requestEnv, executionCtx));

  const respClient = new RespClient({ ...parseRedisUrl(stack.redis.url), commandTimeoutMs: 2000 });
  const sql = new pg.Client({ connectionString: stack.databaseUrl });
  let redis: RedisAdapter;
  let db: DatabaseAdapter;
  try {
    await sql.connect();
    redis = createRedisAdapter({
      url: stack.vars.UPSTASH_REDIS_REST_URL!,
      token: stack.vars.UPSTASH_REDIS_REST_TOKEN!,
      timeoutMs: 2000,
    });
    db = createSupabaseAdapter({
      url: stack.vars.SUPABASE_URL!,
      serviceRoleKey: stack.vars.SUPABASE_SERVICE_ROLE_KEY!,
      timeoutMs: 5000,
    });
  } catch (error) {
    // Leave nothing behind when setup fails half way.
    await respClient.close().catch(() => {});
    await sql.end().catch(() => {});
    await stack.stop();
    throw error;
  }

  const harness: AccessHarness = {
    stack,
    env,
    app,
    request,
    async settle() {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
    redis,
    db,
    redisCommand: (...args) => respClient.command(args),
    sql,
    async account(tier = "free") {
      const email = `user${++emails}-${Date.now()}@example.com`;
      // Each account comes from its own address: sign-ups and token requests are limited per IP.
      const clientIp = `10.0.${emails >> 8}.${emails & 255}`;
      const signup = await request(
        "/v1/signup",
        {
          method: "POST",
          headers: { "Content-Type": "application/json", "CF-Connecting-IP": clientIp },
          body: JSON.stringify({ email }),
        },
        setupEnv,
      );
      if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
      const { account_id: id, api_key: apiKey } = (await signup.json()) as {
        account_id: string;
        api_key: string;
      };
      if (tier !== "free") {
        await sql.query("update public.accounts set tier = $1 where id = $2", [tier, id]);
        // Sign-up cached the key for the hot path on the free tier: cache what Postgres now says,
        // as billing's tier override would tell the hot path of a real upgrade.
        const keyHash = await hashApiKey(apiKey);
        const known = await resolveApiKey(db, keyHash);
        if (!known) throw new Error("the new key is unknown to Postgres");
        await redis.putApiKeyEntry(
          apiKeyEntryOf(keyHash, knownApiKeyOf(keyHash, known), TOKEN_DENY_TTL_SECONDS),
          "set",
        );
      }
      const minted = await request(
        "/v1/token",
        {
          method: "POST",
          headers: { Authorization: `Bearer ${apiKey}`, "CF-Connecting-IP": clientIp },
        },
        setupEnv,
      );
      if (minted.status !== 200) throw new Error(`token: ${minted.status} ${await minted.text()}`);
      const { token } = (await minted.json()) as { token: string };
      return { id, apiKey, token, email };
    },
    async stop() {
      await harness.settle().catch(() => {});
      await respClient.close().catch(() => {});
      await sql.end().catch(() => {});
      await stack.stop();
    },
  };
  return harness;
}

/** The body of a problem+json response, checked for the basics. */
export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  if (response.headers.get("Content-Type") !== "application/problem+json") {
    throw new Error(
      `expected problem+json, got ${response.headers.get("Content-Type")}: ${await response.text()}`,
    );
  }
  return (await response.json()) as Record<string, unknown>;
}

/** XRANGE of the usage stream as objects. */
export async function usageStream(harness: AccessHarness): Promise<Record<string, string>[]> {
  const entries = plain(await harness.redisCommand("XRANGE", "sm:usage-stream", "-", "+")) as
    | [string, string[]][]
    | null;
  return (entries ?? []).map(([, fields]) => {
    const record: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
    return record;
  });
}
