/**
 * Shared plumbing of `npm run keys` and `npm run token`: the same domain code as the Worker
 * (src/access), with Postgres reached directly through `pg` (DATABASE_URL, else the dev database of
 * `npm run dev`) instead of through PostgREST, and Redis through the Upstash client when the
 * operator needs the deny-list. Secrets come from `loadDevSecrets` (test/support/local-secrets).
 * While `npm run dev` runs, unset connection settings come from its stack (scripts/lib/dev-stack).
 */
import pg from "pg";
import { createRedisAdapter, type RedisAdapter } from "../../src/adapters/redis";
import { type DatabaseAdapter, DatabaseError } from "../../src/adapters/supabase";
import { applyMigrations } from "../../test/support/migrate";
import { DEV_DATABASE, ensureDatabase, findOrStartPostgres } from "../../test/support/postgres";
import { startRedisBridge } from "../../test/support/redis-bridge";
import { pingRedis } from "../../test/support/redis-server";
import { parseRedisUrl } from "../../test/support/resp";
import { useDevStackDefaults } from "./dev-stack";

export const say = (line: string) => process.stderr.write(`${line}\n`);

/** `--name value` and bare words from argv. */
export function parseArgs(argv: string[]): { words: string[]; flags: Record<string, string> } {
  const words: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
      if (inline !== undefined) flags[name] = inline;
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) flags[name] = argv[++i]!;
      else flags[name] = "true";
    } else words.push(arg);
  }
  return { words, flags };
}

/** A DatabaseAdapter over one pg connection: `select public.<fn>(name => $1, ...)`, as PostgREST calls it. */
export function pgDatabase(client: pg.Client): DatabaseAdapter {
  return {
    async rpc<T>(fn: string, args: Record<string, unknown> = {}) {
      const names = Object.keys(args);
      for (const name of [fn, ...names]) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe identifier ${JSON.stringify(name)}`);
      }
      const values = names.map((name) => {
        const value = args[name];
        return value !== null && typeof value === "object" ? JSON.stringify(value) : value;
      });
      const call = names.map((name, i) => `${name} => $${i + 1}`).join(", ");
      try {
        const { rows } = await client.query(`select public.${fn}(${call}) as result`, values);
        return rows[0]?.result as T;
      } catch (error) {
        const code = (error as { code?: string }).code ?? "PG_ERROR";
        throw new DatabaseError(fn, code, 0, error instanceof Error ? error.message : String(error));
      }
    },
  };
}

/** DATABASE_URL, else the dev database on the local server (created and migrated when missing). */
export async function connectDatabase(): Promise<{ db: DatabaseAdapter; close(): Promise<void> }> {
  useDevStackDefaults();
  let url = process.env.DATABASE_URL;
  let stopServer = async () => {};
  if (!url) {
    const server = await findOrStartPostgres();
    if (server.owned) {
      say(
        "note: no Postgres was running, so a throwaway one was started; start `npm run dev` first to keep data",
      );
      stopServer = () => server.stop();
    }
    url = await ensureDatabase(server, DEV_DATABASE);
  }
  await applyMigrations(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    db: pgDatabase(client),
    async close() {
      await client.end();
      await stopServer();
    },
  };
}

/**
 * The Redis the Worker uses, for deny-list writes: UPSTASH_REDIS_REST_URL/TOKEN when set (or the
 * running `npm run dev` stack's bridge), else REDIS_URL or a Redis on 127.0.0.1:6379 through a short-lived local bridge; undefined if none.
 */
export async function connectRedis(): Promise<{ redis: RedisAdapter; close(): Promise<void> } | undefined> {
  useDevStackDefaults();
  const { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token } = process.env;
  if (url && token)
    return { redis: createRedisAdapter({ url, token, timeoutMs: 5000 }), close: async () => {} };
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const { host, port } = parseRedisUrl(redisUrl);
  if (!(await pingRedis(host, port))) return undefined;
  const bridgeToken = crypto.randomUUID();
  const bridge = await startRedisBridge({ redisUrl, token: bridgeToken });
  return {
    redis: createRedisAdapter({ url: bridge.url, token: bridgeToken, timeoutMs: 5000 }),
    close: () => bridge.close(),
  };
}
