/**
 * apply-edge-state: what billing tells the hot path about one subject (account), written after the
 * Postgres transaction that decided it has committed.
 *
 * Guarantees (one script, so atomic):
 * - Monotone: the write happens only if `version` is not older than the version stored with the
 *   last write, so two webhook deliveries racing to Redis cannot leave the older state behind. An
 *   equal version is written again: a redelivered event re-applies its state and refreshes the TTLs.
 * - The tier override (read by admit-usage) is set to the account's tier, so tokens minted (and API
 *   key entries cached) before the change get the new tier on their next request; the deny entry is
 *   set or removed with it, and the customer override is set to the account's Stripe customer (or
 *   removed while it has none), so their usage is billed to the customer a checkout just linked.
 * - Every key written has a TTL of `ttl` seconds, at least the longest token lifetime: by then every
 *   live token was minted from Postgres with the right tier and status, so nothing is lost.
 *
 * KEYS: 1 edge version, 2 tier override, 3 deny-subject, 4 customer override
 * ARGV: 1 version, 2 tier, 3 deny ("1" or "0"), 4 ttl (s), 5 Stripe customer id ("" when none)
 * Reply: 1 written, 0 skipped (a newer state is already there).
 */
export const APPLY_EDGE_STATE_LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local version = tonumber(ARGV[1])
if version < current then return 0 end
local ttl = tonumber(ARGV[4])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
if ARGV[3] == '1' then
  redis.call('SET', KEYS[3], '1', 'EX', ttl)
else
  redis.call('DEL', KEYS[3])
end
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[4], ARGV[5], 'EX', ttl)
else
  redis.call('DEL', KEYS[4])
end
return 1
`;
