/**
 * The bench's floor: a bare Worker (./floor-worker/index.js) served by the same workerd, doing only
 * what a validate call cannot avoid (see that file). Its figures bound what any Worker could reach
 * on this machine with this design, so the product's figures can be read against them.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { admitScriptCall } from "../../src/adapters/redis/admission";
import { ADMIT_USAGE_LUA } from "../../src/metering/scripts/admit-usage";
import type { LocalStack } from "../../test/support/local-stack";
import { BENCH_TIER, RATE_LIMIT_TIERS } from "./setup";

export const FLOOR_WORKER_DIR = resolve(import.meta.dirname, "floor-worker");

/**
 * The floor Worker's configuration: the Redis REST address and token of the local stack, and the
 * admission script's call for /parse-admit (ADMIT_CALL).
 */
export function floorVars(stack: LocalStack): Record<string, string> {
  const { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token } = stack.vars;
  if (!url || !token) throw new Error("the local stack has no Redis REST address or token");
  return { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token, ADMIT_CALL: admitCall() };
}

/**
 * The product's admission call for a bench-tier token of a subject of the floor's own, as the
 * product builds it (admitScriptCall), with the ARGV positions that change per call found by
 * marker values, so the floor sends what the product sends without knowing the script's layout.
 */
function admitCall(): string {
  const markers = { nowMs: 1_111_111_111_111, usageId: "fresh-usage-id", requestId: "fresh-request-id" };
  const { keys, args } = admitScriptCall({
    usageId: markers.usageId,
    requestId: markers.requestId,
    subject: "bench-floor-subject",
    apiKeyId: null,
    stripeCustomerId: null,
    tier: BENCH_TIER,
    units: 1,
    nowMs: markers.nowMs,
    tiers: RATE_LIMIT_TIERS,
    idempotency: null,
  });
  const at = (value: string) => {
    const index = args.indexOf(value);
    if (index < 0) throw new Error(`the admission call has no ${value} in its ARGV`);
    return index;
  };
  const fresh = {
    nowMs: at(String(markers.nowMs)),
    usageId: at(markers.usageId),
    requestId: at(markers.requestId),
    isoTime: at(new Date(markers.nowMs).toISOString()),
  };
  const sha = createHash("sha1").update(ADMIT_USAGE_LUA).digest("hex");
  return JSON.stringify({ sha, script: ADMIT_USAGE_LUA, keys, args, fresh });
}

/** The floor's routes, loaded in this order; `body` ones get the validate request's body. */
export const FLOOR_ROUTES = [
  { route: "floor: GET /empty", method: "GET", path: "/empty", body: false },
  { route: "floor: POST /parse", method: "POST", path: "/parse", body: true },
  { route: "floor: POST /redis", method: "POST", path: "/redis", body: false },
  { route: "floor: POST /parse-redis", method: "POST", path: "/parse-redis", body: true },
  { route: "floor: POST /parse-admit", method: "POST", path: "/parse-admit", body: true },
] as const;
