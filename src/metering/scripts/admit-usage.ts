/**
 * admit-usage: the one Redis round trip of a protected request.
 *
 * Guarantees (a Lua script runs atomically: no other command interleaves):
 * - A revoked subject or API key is refused before anything is written.
 * - The tier is the override when one is set (and configured), else the token's tier.
 * - Sliding-window log: at most `limit` admissions in any window of `windowMs` ending now, even
 *   under concurrency (check and add happen in the same script). An entry at time t stops counting
 *   at t + windowMs exactly. A refused request adds nothing, so hammering does not extend the wait.
 * - When `units` > 0, the period usage counter and the usage stream entry are written together with
 *   the admission, or not at all. `units` = 0 (non-billable calls) writes neither.
 * - Every key written gets its TTL in the same script (no INCR-then-EXPIRE gap that could leave an
 *   immortal key): the window log `windowMs`, the period counter until `ARGV[9]` (unix seconds), the
 *   stream `ARGV[10]` seconds after its last write. The stream is never trimmed here: trimming could
 *   drop records the flusher has not read; the flusher deletes what it has acknowledged.
 *
 * KEYS: 1 deny-subject, 2 deny-api-key, 3 tier-override, 4 window log, 5 period counter, 6 usage stream
 * ARGV: 1 now (ms), 2 usage id, 3 units, 4 token tier, 5 request id, 6 subject, 7 Stripe customer id
 *       ("" when none), 8 time (ISO 8601 UTC), 9 counter expiry (unix s), 10 stream TTL (s),
 *       11.. tiers as triples: name, limit, window (ms)
 * Reply: {status, tier, limit, remaining, reset ms, window ms, period units}, status 1 admitted,
 *        0 rate limited, -1 subject denied, -2 API key denied, -3 unknown tier (reply {-3, tier}).
 */
export const ADMIT_USAGE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {-2} end

local now = tonumber(ARGV[1])
local units = tonumber(ARGV[3])
local policies = {}
for i = 11, #ARGV, 3 do
  policies[ARGV[i]] = {tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])}
end
local tier = ARGV[4]
local override = redis.call('GET', KEYS[3])
if override and policies[override] then tier = override end
local policy = policies[tier]
if not policy then return {-3, tier} end
local limit, window = policy[1], policy[2]

redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[4])

local function reset_ms()
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if oldest[2] then return tonumber(oldest[2]) + window - now end
  return window
end

local function period_units()
  return tonumber(redis.call('GET', KEYS[5]) or '0')
end

if count >= limit then
  return {0, tier, limit, 0, reset_ms(), window, period_units()}
end

redis.call('ZADD', KEYS[4], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[4], window)

local usage
if units ~= 0 then
  usage = redis.call('INCRBY', KEYS[5], units)
  redis.call('EXPIREAT', KEYS[5], ARGV[9])
  redis.call('XADD', KEYS[6], '*',
    'id', ARGV[2], 'kind', 'admit', 'request_id', ARGV[5], 'subject', ARGV[6],
    'stripe_customer_id', ARGV[7], 'tier', tier, 'units', ARGV[3], 'ts', ARGV[8], 'source', 'live')
  redis.call('EXPIRE', KEYS[6], ARGV[10])
else
  usage = period_units()
end

return {1, tier, limit, limit - count - 1, reset_ms(), window, usage}
`;
