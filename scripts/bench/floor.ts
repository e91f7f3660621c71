/**
 * The bench's floor: a bare Worker (./floor-worker/index.js) served by the same workerd, doing only
 * what a validate call cannot avoid (see that file). Its figures bound what any Worker could reach
 * on this machine with this design, so the product's figures can be read against them.
 */
import { resolve } from "node:path";
import type { LocalStack } from "../../test/support/local-stack";

export const FLOOR_WORKER_DIR = resolve(import.meta.dirname, "floor-worker");

/** The floor Worker's configuration: only the Redis REST address and token of the local stack. */
export function floorVars(stack: LocalStack): Record<string, string> {
  const { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token } = stack.vars;
  if (!url || !token) throw new Error("the local stack has no Redis REST address or token");
  return { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token };
}

/** The floor's routes, loaded in this order; `body` ones get the validate request's body. */
export const FLOOR_ROUTES = [
  { route: "floor: GET /empty", method: "GET", path: "/empty", body: false },
  { route: "floor: POST /parse", method: "POST", path: "/parse", body: true },
  { route: "floor: POST /redis", method: "POST", path: "/redis", body: false },
  { route: "floor: POST /parse-redis", method: "POST", path: "/parse-redis", body: true },
] as const;
