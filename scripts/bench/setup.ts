/**
 * What `npm run bench` and `npm run bench:ab` share: the Worker's bench configuration, the bench
 * body, and a process's CPU time from /proc.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { BENCH_DIR } from "../../test/support/fixtures";
import type { LocalStack } from "../../test/support/local-stack";

export const BENCH_TIER = "bench";
export const RATE_LIMIT_TIERS = {
  free: { limit: 5, windowSeconds: 10 },
  pro: { limit: 100, windowSeconds: 10 },
  [BENCH_TIER]: { limit: 100_000_000, windowSeconds: 10 },
};

export const ADMISSION_TIMEOUT_MS = 1000;

/**
 * The local stack's configuration, plus a tier that cannot throttle the bench and the longest
 * admission budget. The local bridge on a loaded 2-core machine can exceed the production 50 ms
 * admission budget; a timed-out admission is served fail-open and billed through Postgres, a
 * different (slower) path. The longest allowed budget keeps every measured call on the real
 * one-round-trip path.
 */
export function benchWorkerVars(stack: LocalStack): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(stack.vars)) if (value !== undefined) vars[name] = value;
  vars.RATE_LIMIT_TIERS = JSON.stringify(RATE_LIMIT_TIERS);
  vars.ADMISSION_TIMEOUT_MS = String(ADMISSION_TIMEOUT_MS);
  // SENTRY_DSN in the environment: the same load with error tracking on (its cost on success).
  if (process.env.SENTRY_DSN) vars.SENTRY_DSN = process.env.SENTRY_DSN;
  return vars;
}

/** The bench schema and its valid document (test/fixtures/bench; JSON_SCHEMA_BENCH_DIR overrides). */
export function loadBenchData(): { schema: unknown; valid: unknown } {
  const path = (file: string) => resolve(BENCH_DIR, file);
  for (const file of ["order.schema.json", "order.valid.json"]) {
    if (!existsSync(path(file))) {
      throw new Error(`${path(file)} not found: set JSON_SCHEMA_BENCH_DIR to the folder of the bench data`);
    }
  }
  return {
    schema: JSON.parse(readFileSync(path("order.schema.json"), "utf8")),
    valid: JSON.parse(readFileSync(path("order.valid.json"), "utf8")),
  };
}

/** A process's user + system CPU time in ms, from /proc (undefined where there is none). */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** The middle value (the upper one of an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor(sorted.length / 2)] as number);
}
