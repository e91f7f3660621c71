/**
 * The bench's peer: the validate route as a developer would assemble it from standard parts, served
 * by the same workerd in the same run as ours and the floor (issue 22 item 6):
 *
 *  - Hono, with `hono/jwt` verifying the same EdDSA bearer token (issuer and audience checked);
 *  - `@upstash/ratelimit`'s `slidingWindow` on the token's subject (its default ephemeral cache on,
 *    analytics off), one Redis call;
 *  - `@cfworker/json-schema` (eval-free, as Workers need), compiled once per distinct schema text
 *    and kept for the isolate's life, so repeated inline schemas are not recompiled;
 *  - an awaited `LPUSH` of the usage record with `@upstash/redis`: the second Redis call.
 *
 * It answers `{ valid, errors }` for the same `{ schema, data }` body. Bundled by esbuild from
 * scripts/bench/peer.ts; not product code.
 */
import { Validator } from "@cfworker/json-schema";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { Hono } from "hono";
import { jwt } from "hono/jwt";

interface PeerEnv {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  /** The token service's public key (JWK JSON, Ed25519). */
  JWT_PUBLIC_JWK: string;
  TOKEN_ISSUER: string;
  TOKEN_AUDIENCE: string;
}

let clients: { redis: Redis; ratelimit: Ratelimit } | undefined;
const validators = new Map<string, Validator>();

function clientsFor(env: PeerEnv) {
  if (!clients) {
    const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(100_000_000, "10 s"),
      prefix: "peer:ratelimit",
      analytics: false,
    });
    clients = { redis, ratelimit };
  }
  return clients;
}

const app = new Hono<{ Bindings: PeerEnv }>();

app.get("/health", (c) => c.text("ok"));

app.use("/v1/*", (c, next) =>
  jwt({
    secret: JSON.parse(c.env.JWT_PUBLIC_JWK) as JsonWebKey,
    alg: "EdDSA",
    verification: { iss: c.env.TOKEN_ISSUER, aud: c.env.TOKEN_AUDIENCE },
  })(c, next),
);

app.post("/v1/validate", async (c) => {
  const subject = String((c.get("jwtPayload") as { sub?: unknown }).sub);
  const { redis, ratelimit } = clientsFor(c.env);
  const { success } = await ratelimit.limit(subject);
  if (!success) return c.json({ error: "rate limited" }, 429);

  const body = await c.req.json<{ schema?: unknown; data?: unknown }>();
  if (body === null || typeof body !== "object" || typeof body.schema !== "object") {
    return c.json({ error: "body must be { schema, data }" }, 400);
  }
  const key = JSON.stringify(body.schema);
  let validator = validators.get(key);
  if (!validator) {
    validator = new Validator(body.schema as object, "2020-12", false);
    validators.set(key, validator);
  }
  const result = validator.validate(body.data);

  await redis.lpush(`peer:usage:${subject}`, JSON.stringify({ subject, units: 1, at: Date.now() }));
  return c.json({ valid: result.valid, errors: result.errors });
});

export default app;
