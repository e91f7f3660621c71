/**
 * What a running `npm run dev` tells the operator scripts: where its Worker, Redis bridge, database
 * and fake Stripe are, in `.local/dev-stack.json` (git-ignored, owner-readable, removed when dev
 * stops). `useDevStackDefaults()` fills the settings a script would otherwise need by hand
 * (`DATABASE_URL`, `UPSTASH_REDIS_REST_URL`/`_TOKEN`, `STRIPE_SECRET_KEY` + `STRIPE_API_BASE`)
 * from it, never over what the environment already sets, so `npm run keys -- revoke` reaches the
 * very Redis the dev Worker reads and `npm run stripe:setup` the fake it bills to.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export interface DevStack {
  pid: number;
  worker_url: string;
  database_url: string;
  upstash_redis_rest_url: string;
  upstash_redis_rest_token: string;
  stripe_api_base: string;
  stripe_secret_key: string;
}

export const DEV_STACK_FILE = resolve(import.meta.dirname, "../../.local/dev-stack.json");

export async function writeDevStack(stack: DevStack): Promise<void> {
  await mkdir(dirname(DEV_STACK_FILE), { recursive: true });
  await writeFile(DEV_STACK_FILE, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
}

export function removeDevStack(): void {
  rmSync(DEV_STACK_FILE, { force: true });
}

/** The running dev stack, if `npm run dev` is up (its process alive). */
export function runningDevStack(): DevStack | undefined {
  if (!existsSync(DEV_STACK_FILE)) return undefined;
  try {
    const stack = JSON.parse(readFileSync(DEV_STACK_FILE, "utf8")) as DevStack;
    process.kill(stack.pid, 0);
    return stack;
  } catch {
    return undefined;
  }
}

/** Fills unset connection settings from the running dev stack; returns it, or undefined when none runs. */
export function useDevStackDefaults(env: NodeJS.ProcessEnv = process.env): DevStack | undefined {
  const stack = runningDevStack();
  if (!stack) return undefined;
  env.DATABASE_URL ??= stack.database_url;
  if (!env.UPSTASH_REDIS_REST_URL && !env.UPSTASH_REDIS_REST_TOKEN) {
    env.UPSTASH_REDIS_REST_URL = stack.upstash_redis_rest_url;
    env.UPSTASH_REDIS_REST_TOKEN = stack.upstash_redis_rest_token;
  }
  if (!env.STRIPE_SECRET_KEY && env.STRIPE_API_BASE === undefined) {
    env.STRIPE_SECRET_KEY = stack.stripe_secret_key;
    env.STRIPE_API_BASE = stack.stripe_api_base;
  }
  return stack;
}
