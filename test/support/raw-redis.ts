/**
 * Test helpers that act on Redis directly (not through the Worker's adapter), for any harness with
 * a raw `redisCommand`.
 */
import { redisKeys, USAGE_STREAM_KEY } from "../../src/metering/scripts/keys";
import { type WindowRun, windowRunsOf } from "../../src/metering/scripts/rate-window";
import { plain, type RespReply } from "./resp";

export interface RawRedis {
  redisCommand(...args: string[]): Promise<RespReply>;
}

/** Blocks Redis's single thread for `ms` with a busy script (as a slow or overloaded Upstash would). */
export function blockRedis(h: RawRedis, ms: number): Promise<unknown> {
  const script = `local s = redis.call('TIME') local start = s[1] * 1000000 + s[2]
    while true do local t = redis.call('TIME') if t[1] * 1000000 + t[2] - start > ${ms * 1000} then break end end
    return 1`;
  return h.redisCommand("EVAL", script, "0");
}

/** Appends a usage stream entry as the admission script writes one, with `overrides` (raw field values); its stream id. */
export async function appendRawUsage(
  h: RawRedis,
  customer: string,
  overrides: Record<string, string> = {},
): Promise<string> {
  const fields: Record<string, string> = {
    id: `u_${crypto.randomUUID().replaceAll("-", "")}`,
    kind: "admit",
    request_id: `req-${crypto.randomUUID()}`,
    subject: `acct-${customer}`,
    stripe_customer_id: customer,
    tier: "pro",
    units: "1",
    ts: new Date().toISOString(),
    source: "live",
    ...overrides,
  };
  const reply = await h.redisCommand("XADD", USAGE_STREAM_KEY, "*", ...Object.entries(fields).flat());
  return String(plain(reply));
}

/** The runs of `subject`'s rate-limit window as stored (oldest first; [] when it has none). */
export async function windowRuns(h: RawRedis, subject: string): Promise<WindowRun[]> {
  const stored = plain(await h.redisCommand("GET", redisKeys.rateWindow(subject)));
  return windowRunsOf(typeof stored === "string" ? stored : null);
}

/** Units `subject`'s rate-limit window holds as stored (admitted within the last window). */
export async function windowUnits(h: RawRedis, subject: string): Promise<number> {
  return (await windowRuns(h, subject)).reduce((sum, run) => sum + run.units, 0);
}
