import type { SpendCapState } from "../metering/monthly-allowance";

/**
 * What Redis keeps of one API key for the hot path (see scripts/put-api-key.ts): enough for the
 * admission script to admit a call made with the key itself, with no other lookup.
 */

/** One key's entry, by the SHA-256 of the key. */
export interface ApiKeyEntry {
  keyHash: string;
  /** "unknown": Postgres has no such key (cached briefly, so a bad key does not reach Postgres each call). */
  state: "active" | "revoked" | "unknown";
  subject: string | null;
  apiKeyId: string | null;
  /** The account's tier when the entry was written; billing's tier override replaces it. */
  tier: string | null;
  /** The account's Stripe customer when the entry was written; billing's override replaces it. */
  stripeCustomerId: string | null;
  /** When the key stops working (ms since the epoch); null: never. */
  expiresAtMs: number | null;
  /** How long Redis keeps the entry. */
  ttlSeconds: number;
  /** How long a revoked key's deny entry (for tokens minted from it) lasts. */
  denyTtlSeconds: number;
  /**
   * The account's spend cap, written to its mirror with the entry (if not older than the mirror's);
   * undefined leaves the mirror as it is (the writer did not read the account's cap).
   */
  spendCap?: SpendCapState;
}

/**
 * How long an entry lives, never extended by use. At most a token's lifetime (TOKEN_TTL_SECONDS'
 * upper bound, 3600 s): billing's overrides in Redis (tier, customer, deny) last at least that long
 * after every change (TOKEN_DENY_TTL_SECONDS), so an entry is never staler than they cover, exactly
 * as for a token. Costs one Postgres lookup per key in use per hour.
 */
export const API_KEY_ENTRY_TTL_SECONDS = 3600;

/** How long "no such key" is remembered: a mistyped or forged key costs Postgres once per 5 minutes. */
export const UNKNOWN_API_KEY_TTL_SECONDS = 300;

/** What Postgres says of a key that matters to its entry. */
export interface KnownApiKey {
  keyHash: string;
  apiKeyId: string;
  subject: string;
  tier: string;
  stripeCustomerId: string | null;
  expiresAtMs: number | null;
  revoked: boolean;
  /** The account's spend cap, when the lookup read it (undefined: not read). */
  spendCap?: SpendCapState;
}

/** The entry of a key Postgres knows (with the given deny TTL), or of an unknown hash (`known` undefined). */
export function apiKeyEntryOf(
  keyHash: string,
  known: KnownApiKey | undefined,
  denyTtlSeconds: number,
): ApiKeyEntry {
  if (!known) {
    return {
      keyHash,
      state: "unknown",
      subject: null,
      apiKeyId: null,
      tier: null,
      stripeCustomerId: null,
      expiresAtMs: null,
      ttlSeconds: UNKNOWN_API_KEY_TTL_SECONDS,
      denyTtlSeconds,
    };
  }
  return {
    keyHash,
    state: known.revoked ? "revoked" : "active",
    subject: known.subject,
    apiKeyId: known.apiKeyId,
    tier: known.tier,
    stripeCustomerId: known.stripeCustomerId,
    expiresAtMs: known.expiresAtMs,
    ttlSeconds: API_KEY_ENTRY_TTL_SECONDS,
    denyTtlSeconds,
    spendCap: known.spendCap,
  };
}
