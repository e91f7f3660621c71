import { BoundedLru } from "../lib/bounded-lru";
import type { TokenKeys } from "./token-keys";
import { type AccessClaims, CLOCK_TOLERANCE_SECONDS, type TokenVerdict, verifyAccessToken } from "./tokens";

/** Tokens kept per isolate, and their total size. */
const MAX_TOKENS = 10_000;
const MAX_TOKEN_BYTES = 8 * 1024 * 1024;

const caches = new WeakMap<TokenKeys, BoundedLru<AccessClaims>>();

/**
 * `verifyAccessToken`, remembering tokens that verified until they expire. A client reuses its
 * token for minutes, and the signature check is the costliest step of an authenticated request
 * (measured in workerd: about 300 µs of ~1 ms). Only successes are kept, per key set (a new
 * configuration starts empty), and nothing is lost for revocation: the deny-list is checked by the
 * admission script on every request, cached token or not.
 */
export async function verifyAccessTokenCached(
  keys: TokenKeys,
  token: string,
  { now = new Date() }: { now?: Date } = {},
): Promise<TokenVerdict> {
  let cache = caches.get(keys);
  if (!cache) {
    cache = new BoundedLru<AccessClaims>(MAX_TOKENS, MAX_TOKEN_BYTES);
    caches.set(keys, cache);
  }
  const known = cache.get(token);
  if (known) {
    // The same rule as the verifier's: expired once `exp` is more than the tolerance in the past.
    if (known.exp > now.getTime() / 1000 - CLOCK_TOLERANCE_SECONDS) return { ok: true, claims: known };
    cache.delete(token);
    return { ok: false, code: "TOKEN_EXPIRED", reason: "expired" };
  }
  const verdict = await verifyAccessToken(keys, token, { now });
  if (verdict.ok) cache.set(token, verdict.claims, token.length);
  return verdict;
}
