import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import type { SpendCapState } from "../metering/monthly-allowance";
import { Refusal } from "../refusal";
import { AccessRefusal } from "./access-refusal";
import { authenticateApiKey } from "./accounts";
import { apiKeyPrefix, hashApiKey } from "./api-keys";
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

/**
 * POST /v1/token: an API key in, a short-lived access token out, with the account's spend cap as
 * Postgres just said, for the caller to mirror into Redis.
 */
export async function exchangeApiKeyForToken(
  { db, config }: { db: DatabaseAdapter; config: Config },
  apiKey: string,
  now = new Date(),
): Promise<IssuedToken & { spendCap: SpendCapState }> {
  const keys = await tokenKeysOf(config);
  if (keys.algorithm === "EdDSA" && !keys.signing) {
    throw new Refusal("SERVICE_MISCONFIGURED", "This deployment verifies tokens but cannot issue them.");
  }
  const account = await authenticateApiKey(db, apiKey, now);
  // A token never outlives the key it was minted from.
  const keyLeftSeconds =
    account.key_expires_at === null
      ? Number.POSITIVE_INFINITY
      : Math.floor((Date.parse(account.key_expires_at) - now.getTime()) / 1000);
  const issued = await issueAccessToken(
    keys,
    {
      accountId: account.id,
      tier: account.tier,
      stripeCustomerId: account.stripe_customer_id,
      apiKeyId: account.key_id,
    },
    { ttlSeconds: Math.max(1, Math.min(config.TOKEN_TTL_SECONDS, keyLeftSeconds)), now },
  );
  return { ...issued, spendCap: { units: account.spend_cap_units, version: account.spend_cap_version } };
}

/** The credential of a protected call: a verified token, or an API key to resolve in admission. */
export type Credential =
  | { kind: "token"; claims: AccessClaims }
  | {
      kind: "api_key";
      /** SHA-256 of the key: the only form that leaves this function. */
      keyHash: string;
      /** The key's visible prefix (`sm_…`), for logs. */
      prefix: string;
    };

const HOW_TO_AUTHENTICATE =
  "Send your API key (sm_…, from POST /v1/signup or POST /v1/keys) or a token from POST /v1/token as Authorization: Bearer <api key or token>.";

/**
 * The credential of `Authorization: Bearer`: an API key (by its shape; hashed here, resolved by
 * admission in its one Redis round trip) or a token, verified locally. AUTH_REQUIRED when there is
 * none, saying what to send; API_KEY_INVALID for a malformed key; TOKEN_EXPIRED or TOKEN_INVALID
 * (401) for a token.
 */
export async function authenticateCredential(
  config: Config,
  authorization: string | undefined,
  now = new Date(),
): Promise<Credential> {
  const credential = bearerCredentials(authorization);
  if (!credential) {
    const bare = authorization?.trim();
    throw new AccessRefusal(
      "AUTH_REQUIRED",
      bare && !/\s/.test(bare)
        ? `Put "Bearer " before the credential. ${HOW_TO_AUTHENTICATE}`
        : HOW_TO_AUTHENTICATE,
    );
  }
  const prefix = apiKeyPrefix(credential);
  if (prefix) return { kind: "api_key", keyHash: await hashApiKey(credential), prefix };
  if (credential.startsWith("sm_")) {
    throw new AccessRefusal(
      "API_KEY_INVALID",
      "This is not a whole API key: keys look like sm_<10 letters or digits>_<43 characters>; copy it again.",
    );
  }
  const verdict = await verifyAccessTokenCached(await tokenKeysOf(config), credential, { now });
  if (verdict.ok) return { kind: "token", claims: verdict.claims };
  throw new AccessRefusal(
    verdict.code,
    verdict.code === "TOKEN_EXPIRED"
      ? "The token has expired; get a new one from POST /v1/token, or send the API key itself."
      : `This is neither a valid token nor an API key. ${HOW_TO_AUTHENTICATE}`,
  );
}
