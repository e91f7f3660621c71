/**
 * The floor of `npm run bench`: a Worker with no framework and no product code, served by the same
 * workerd in the same run, doing only the unavoidable parts of a validate call:
 *
 *  - GET  /empty       answers "ok": what workerd itself costs per request;
 *  - POST /parse       reads and JSON-parses the request body (the bench sends the validate body);
 *  - POST /redis       one Upstash REST call (PING) through the same Redis bridge as the real route;
 *  - POST /parse-redis both: the least any validate call with one Redis round trip can cost;
 *  - POST /parse-admit the body, then our admission script's own call (EVALSHA with the KEYS and
 *                      ARGV the product sends, fresh ids and clock each call; the bench passes them
 *                      in ADMIT_CALL): what the product's one round trip costs, without the product.
 *
 * Comparing the real routes with these rows says how much of their cost is the runtime's and how
 * much is ours. Plain JavaScript, served as is (no bundling).
 */
const ok = () => new Response("ok");

async function redisPing(env) {
  const response = await fetch(env.UPSTASH_REDIS_REST_URL, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}`, "Content-Type": "application/json" },
    body: '["PING"]',
    signal: AbortSignal.timeout(1000),
  });
  const { result } = await response.json();
  if (result !== "PONG") return new Response(`unexpected reply: ${JSON.stringify(result)}`, { status: 502 });
  return undefined;
}

async function redisCall(env, command) {
  const response = await fetch(env.UPSTASH_REDIS_REST_URL, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(command),
    signal: AbortSignal.timeout(1000),
  });
  return response.json();
}

/** ADMIT_CALL: { sha, script, keys, args, fresh: { nowMs, usageId, requestId, isoTime } } (ARGV indexes). */
let admitCall;
async function admit(env) {
  admitCall ??= JSON.parse(env.ADMIT_CALL);
  const { sha, script, keys, args, fresh } = admitCall;
  const now = Date.now();
  const argv = [...args];
  argv[fresh.nowMs] = String(now);
  argv[fresh.usageId] = crypto.randomUUID();
  argv[fresh.requestId] = crypto.randomUUID();
  argv[fresh.isoTime] = new Date(now).toISOString();
  let reply = await redisCall(env, ["EVALSHA", sha, String(keys.length), ...keys, ...argv]);
  if (reply.error?.includes("NOSCRIPT"))
    reply = await redisCall(env, ["EVAL", script, String(keys.length), ...keys, ...argv]);
  if (!Array.isArray(reply.result))
    return new Response(`unexpected reply: ${JSON.stringify(reply)}`, { status: 502 });
  return undefined;
}

async function parseBody(request) {
  const body = await request.json();
  if (body === null || typeof body !== "object") return new Response("not an object", { status: 400 });
  return undefined;
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/health": // startWorkerdServe waits for this
      case "/empty":
        return ok();
      case "/parse":
        return (await parseBody(request)) ?? ok();
      case "/redis":
        return (await redisPing(env)) ?? ok();
      case "/parse-admit":
        return (await parseBody(request)) ?? (await admit(env)) ?? ok();
      case "/parse-redis":
        return (await parseBody(request)) ?? (await redisPing(env)) ?? ok();
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
