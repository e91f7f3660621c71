import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import { Refusal } from "../refusal";
import { AccessRefusal } from "./access-refusal";
import { authenticateApiKey } from "./accounts";
import { bearerCredentials } from "./bearer";
import { loadTokenKeys, TokenKeyError, type TokenKeys } from "./token-keys";
import { type AccessClaims, type IssuedToken, issueAccessToken } from "./tokens";
import { verifyAccessTokenCached } from "./verified-tokens";

/** The token keys, or SERVICE_MISCONFIGURED naming the setting (details go to the log via `cause`). */
export async function tokenKeysOf(config: Config): Promise<TokenKeys> {
  try {
    return await loadTokenKeys(config);
  } catch (error) {
    const detail = error instanceof TokenKeyError ? error.message : "token keys could not be loaded";
    throw new Refusal("SERVICE_MISCONFIGURED", "Token signing is not configured correctly.", {
      cause: new Error(detail, { cause: error }),
    });
  }
}

/** POST /v1/token: an API key in, a short-lived access token out. */
export async function exchangeApiKeyForToken(
  { db, config }: { db: DatabaseAdapter; config: Config },
  apiKey: string,
  now = new Date(),
): Promise<IssuedToken> {
  const keys = await tokenKeysOf(config);
  if (keys.algorithm === "EdDSA" && !keys.signing) {
    throw new Refusal("SERVICE_MISCONFIGURED", "This deployment verifies tokens but cannot issue them.");
  }
  const account = await authenticateApiKey(db, apiKey, now);
  return issueAccessToken(
    keys,
    {
      accountId: account.id,
      tier: account.tier,
      stripeCustomerId: account.stripe_customer_id,
      apiKeyId: account.key_id,
    },
    { ttlSeconds: config.TOKEN_TTL_SECONDS, now },
  );
}

/** Verifies the `Authorization: Bearer` token locally; AUTH_REQUIRED, TOKEN_EXPIRED or TOKEN_INVALID (401). */
export async function authenticateBearer(
  config: Config,
  authorization: string | undefined,
  now = new Date(),
): Promise<AccessClaims> {
  const token = bearerCredentials(authorization);
  if (!token) {
    throw new AccessRefusal(
      "AUTH_REQUIRED",
      "Send a token from POST /v1/token as Authorization: Bearer <token>.",
    );
  }
  const verdict = await verifyAccessTokenCached(await tokenKeysOf(config), token, { now });
  if (verdict.ok) return verdict.claims;
  throw new AccessRefusal(
    verdict.code,
    verdict.code === "TOKEN_EXPIRED"
      ? "The token has expired; get a new one from POST /v1/token."
      : "The token is not valid.",
  );
}
