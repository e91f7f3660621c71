/**
 * A bearer token for the bench, on a tier whose rate limit cannot throttle it.
 *
 * Preferred: the real flow, as a customer does it: POST /v1/signup (a free account and its API key),
 * the account moved to the bench tier in Postgres (as an operator or a Stripe webhook would), then
 * POST /v1/token. Fallback when those routes are missing: a token signed here with the stack's
 * Ed25519 key and the claims the verifier expects (src/access/tokens.ts).
 */
import { randomUUID } from "node:crypto";
import { importJWK, type JWK, SignJWT } from "jose";
import pg from "pg";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "../../src/access/tokens";
import type { LocalStack } from "../../test/support/local-stack";

export interface BenchToken {
  token: string;
  tier: string;
  subject: string;
  /** How it was obtained, for the report. */
  via: string;
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { body: text.slice(0, 300) };
  }
}

const brief = (body: Record<string, unknown>): string =>
  String(body.code ?? body.title ?? body.body ?? JSON.stringify(body).slice(0, 200));

/** Signup → tier change in Postgres → token. Returns a reason string when the flow is not available. */
async function tokenViaHttp(
  workerUrl: string,
  stack: LocalStack,
  tier: string,
): Promise<BenchToken | string> {
  const email = `bench-${randomUUID().slice(0, 8)}@example.com`;
  const signup = await fetch(`${workerUrl}/v1/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email }),
  });
  const account = await readJson(signup);
  if (signup.status !== 201) return `POST /v1/signup answered ${signup.status} (${brief(account)})`;
  const accountId = String(account.account_id);
  const apiKey = String(account.api_key);

  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const updated = await db.query("update public.accounts set tier = $1 where id = $2", [tier, accountId]);
    if (updated.rowCount !== 1) return `account ${accountId} not found in Postgres to set its tier`;
  } finally {
    await db.end();
  }

  const exchange = await fetch(`${workerUrl}/v1/token`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}` },
  });
  const issued = await readJson(exchange);
  if (exchange.status !== 200) return `POST /v1/token answered ${exchange.status} (${brief(issued)})`;
  if (issued.tier !== tier) return `POST /v1/token issued tier ${String(issued.tier)}, not ${tier}`;
  return { token: String(issued.token), tier, subject: accountId, via: "POST /v1/signup + POST /v1/token" };
}

/** A token signed here with the token service's key, claims as src/access/tokens.ts issues them. */
export async function signBenchToken(stack: LocalStack, tier: string, ttlSeconds = 900): Promise<BenchToken> {
  const jwk = stack.secrets.jwtPrivateJwk as JWK & { kid: string };
  const key = await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA");
  const subject = randomUUID();
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: subject, tier, cus: null, akid: null, jti: randomUUID() })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: jwk.kid })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key);
  return { token, tier, subject, via: "signed locally with the stack's JWT_PRIVATE_JWK" };
}

export async function obtainBenchToken(
  workerUrl: string,
  stack: LocalStack,
  tier: string,
  say: (line: string) => void,
): Promise<BenchToken> {
  let reason: string;
  try {
    const viaHttp = await tokenViaHttp(workerUrl, stack, tier);
    if (typeof viaHttp !== "string") return viaHttp;
    reason = viaHttp;
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  say(`token via HTTP not available (${reason}); signing one directly`);
  return signBenchToken(stack, tier);
}
