/**
 * put-spend-cap: mirrors an account's spend cap from Postgres into Redis (`sm:cap:<account>`), read
 * by admit-usage in its one round trip.
 *
 * Guarantees (one script, so atomic):
 * - The value is `<units>:<version>`, or `:<version>` for no cap (kept, not deleted, so that the
 *   version survives a removal). admit-usage reads the units before the colon; none: no cap.
 * - Monotone: written only if `version` (accounts.spend_cap_version, which grows with every change)
 *   is not older than the version held, so a writer that read Postgres before a change (a token
 *   exchange racing PUT /v1/account/spend-cap) cannot put the old cap back. An equal version is
 *   written again, which refreshes the TTL.
 * - Every write sets the TTL (SPEND_CAP_TTL_SECONDS).
 *
 * The function is shared with put-api-key, which mirrors the cap with the key's entry.
 */

/** Lua: put_spend_cap(key, units or '', version, ttl) → 1 written, 0 skipped (older). */
export const PUT_SPEND_CAP_FUNCTION = `
local function put_spend_cap(key, units, version, ttl)
  local held = redis.call('GET', key)
  if held and tonumber(version) < tonumber(string.match(held, ':(%d+)$') or '-1') then return 0 end
  redis.call('SET', key, units .. ':' .. version, 'EX', ttl)
  return 1
end
`;

/**
 * KEYS: 1 spend cap mirror
 * ARGV: 1 units ("" for no cap), 2 version, 3 TTL (s)
 * Reply: 1 written, 0 skipped (a newer version is there).
 */
export const PUT_SPEND_CAP_LUA = `${PUT_SPEND_CAP_FUNCTION}
return put_spend_cap(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
`;
