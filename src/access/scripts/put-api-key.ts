import { PUT_SPEND_CAP_FUNCTION } from "../../metering/scripts/put-spend-cap";

/**
 * put-api-key: writes what the hot path knows of one API key (its entry, by the key's SHA-256),
 * read by admit-usage.
 *
 * Guarantees (one script, so atomic):
 * - "set" (key created, revoked, rolled: Postgres has committed the change) overwrites the entry,
 *   so the change holds from the next request on. "fill" (the hot path after a miss, with what
 *   Postgres said) writes only when there is no entry: a fill that read Postgres before a
 *   revocation can never overwrite the revocation's entry, whichever reaches Redis first.
 * - Revocation is final: an entry that says revoked is never replaced by one that does not (a roll's
 *   write of the old key's expiry racing a revocation of that key cannot bring it back).
 * - A revoked key also gets its deny entry (tokens minted from it are refused too), for `ARGV[9]` s.
 * - The entry lives `ARGV[8]` s and is never extended by use, so it is never older than that: at
 *   most the lifetime of a token, which is what billing's overrides (tier, customer, deny; written
 *   with at least that TTL after every change) are sized for.
 *
 * - The spend cap's mirror of the key's subject is written with the entry, from the same Postgres
 *   read, as put-spend-cap writes it (ARGV[10] units, "" for none; version ARGV[12]; only if not
 *   older than the mirror's); "keep" leaves it (writers that did not read the account's cap:
 *   creation, roll, revocation).
 *
 * KEYS: 1 API key entry, 2 deny-api-key (of the key id), 3 spend cap (of the subject)
 * ARGV: 1 mode ("set" or "fill"), 2 state ("active", "revoked" or "unknown"), 3 subject, 4 key id,
 *       5 tier, 6 Stripe customer id ("" when none), 7 expiry (ms, "" when none), 8 entry TTL (s),
 *       9 deny TTL (s), 10 spend cap (units, "" none, "keep"), 11 spend cap TTL (s),
 *       12 spend cap version
 * Reply: 1 written, 0 skipped (a fill found an entry already there, or the key is revoked).
 */
export const PUT_API_KEY_LUA = `${PUT_SPEND_CAP_FUNCTION}
if ARGV[1] == 'fill' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[2] ~= 'revoked' and redis.call('HGET', KEYS[1], 'state') == 'revoked' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'subject', ARGV[3], 'key_id', ARGV[4], 'tier', ARGV[5],
  'customer', ARGV[6], 'expires_at', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[8])
if ARGV[2] == 'revoked' then redis.call('SET', KEYS[2], '1', 'EX', ARGV[9]) end
if ARGV[10] ~= 'keep' then put_spend_cap(KEYS[3], ARGV[10], ARGV[12], ARGV[11]) end
return 1
`;
