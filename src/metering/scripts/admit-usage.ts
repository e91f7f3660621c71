import { KEY_PREFIXES } from "./keys";
import { RATE_WINDOW_LUA } from "./rate-window";
import { ADD_USAGE_COUNTERS_LUA } from "./usage-counters";

/**
 * admit-usage: the one Redis round trip of a protected request, made with a token or an API key.
 *
 * Guarantees (a Lua script runs atomically: no other command interleaves):
 * - API key (ARGV[6] subject empty): the key's entry (KEYS[8], by the key's SHA-256) names its
 *   subject, key id, tier, Stripe customer and expiry. No entry: reply -4 and nothing is written (the
 *   Worker then asks Postgres once and fills the entry). A revoked, unknown or expired key is refused
 *   before anything is written. The subject's keys are then derived here from the entry's subject,
 *   with the prefixes of keys.ts: Upstash runs a script without `allow-key-locking` under its global
 *   lock, so keys not passed in KEYS are allowed (this would not run on Redis Cluster, which we do
 *   not use). A token's call passes every key in KEYS, as before.
 * - A revoked subject or API key is refused before anything is written.
 * - The tier is the override when one is set (and configured), else the token's (entry's, when
 *   configured; else ARGV[4]) tier; the
 *   Stripe customer likewise is the override when set, else the token's (entry's). Both overrides
 *   are billing's, written by apply-edge-state.
 * - Sliding window counted in units, in O(1) state per subject (rate-window.ts: the log compacted
 *   into at most WINDOW_RUNS runs, one string key): at most `limit` units admitted in any window of
 *   `windowMs` ending now, even under concurrency (check and add happen in the same script). A call
 *   costs its units (ARGV[3]), at least 1 (a call billed 0 units costs 1). An admission at t stops
 *   counting at t + windowMs exactly while the window holds at most WINDOW_RUNS distinct admission
 *   times (always, for a limit that small); beyond that, up to 2 windowMs / (WINDOW_RUNS - 2) later
 *   (stricter, never looser). A refused request adds nothing, so hammering does not extend the
 *   wait; the 429's reset is when enough units will have left for this call's cost. A call that
 *   costs more than the whole limit can never fit: -9, nothing written. The script's work and the
 *   window's size do not grow with the tier's limit.
 * - Monthly quota and spend cap: a call of `units` > 0 is refused (-10, nothing written: not
 *   billed, not counted in the window) when the period counter plus its units would pass the
 *   tier's monthly quota (its 4th ARGV field, "" for none) or the subject's spend cap (KEYS[9], by
 *   the subject's for an API key; `<units>:<version>`, see put-spend-cap; absent or `:<version>`:
 *   none), whichever is lower. So a batch that would cross it
 *   is refused whole, and a cap set below what was used refuses at once. `units` = 0 calls (account
 *   reads, checkout) are never refused for it, so a customer at the quota can still look and upgrade.
 * - When `units` > 0, the period usage counter, the day and hour counters (usage-counters.ts, keys
 *   named here from the subject) and the usage stream entry are written together with the
 *   admission, or not at all. `units` = 0 (non-billable calls) writes none of them.
 * - Every key written gets its TTL in the same script (no INCR-then-EXPIRE gap that could leave an
 *   immortal key): the window `windowMs`, the period counter until `ARGV[9]` (unix seconds), the
 *   stream `ARGV[10]` seconds after its last write. The stream is never trimmed here: trimming could
 *   drop records the flusher has not read; the flusher deletes what it has acknowledged. The key
 *   entry is only read (its TTL is set by whoever wrote it, and never extended by use).
 * - Idempotency-Key (ARGV[13] its SHA-256, "" when none; key `idem:<subject>:<hash>`): an entry
 *   with another body fingerprint (ARGV[14]) is refused (-7), one still in flight (-8), one done is
 *   answered from what it stored (2); none of these counts against the window or bills. Otherwise
 *   the call is admitted as usual and, in the same script, an entry `pending` with this usage id is
 *   written for ARGV[15] ms (complete-idempotent-call then keeps the response for 24 h). So of any
 *   number of concurrent duplicates exactly one is admitted and billed.
 *
 * KEYS: 1 deny-subject, 2 deny-api-key, 3 tier-override, 4 rate window, 5 period counter, 6 usage stream,
 *       7 customer override, 8 API key entry (for a token: a key that is never set), 9 spend cap
 * ARGV: 1 now (ms), 2 usage id, 3 units, 4 token tier (for an API key: the tier to use when the
 *       entry's is no longer configured), 5 request id, 6 subject ("" for an API key),
 *       7 Stripe customer id ("" when none), 8 time (ISO 8601 UTC), 9 counter expiry (unix s),
 *       10 stream TTL (s), 11 period (YYYY-MM), 12 API key id ("" when none),
 *       13 idempotency key hash ("" when none), 14 body fingerprint, 15 pending entry TTL (ms),
 *       16 bucket ("" the tier's window, "reads" the account reads' own), 17 reads limit,
 *       18 reads window (ms), 19.. tiers as quadruples: name, limit, window (ms), monthly quota
 *       ("" when none)
 * Reply: {status, tier, limit, remaining, reset ms, window ms, period units, customer, subject, key id},
 *        status 1 admitted, 0 rate limited, -1 subject denied, -2 API key denied (revoked),
 *        -3 unknown tier (reply {-3, tier}), -4 API key not in Redis, -5 API key unknown,
 *        -6 API key expired (reply {-6, expiry ms}), -7 idempotency key reused with another body,
 *        -8 idempotency key in flight, -9 cost over the whole limit (all three with the window
 *        fields), -10 over the monthly quota or spend cap (the window fields, then "quota" or "cap",
 *        and that allowance in units), 2 replayed: the window fields,
 *        then the stored status, stored ("1"/"0"), body, units. An admitted read (bucket "reads")
 *        adds the tier window's limit, remaining, reset ms and window ms (read, not written).
 *        -11: the usage id already has a compensation or replay marker (nothing written).
 * - Uncertain admissions: a call whose reply the Worker never got is settled as uncertain (a
 *   compensation or a replay from Postgres, each leaving a marker `sm:appended:<id>:<kind>`). A
 *   script that only runs after that (it was delayed behind a busy Redis) finds the marker and
 *   admits nothing, so the drain never meets an admission later than what settled it.
 */
export const ADMIT_USAGE_LUA = `${ADD_USAGE_COUNTERS_LUA}${RATE_WINDOW_LUA}
local now = tonumber(ARGV[1])
local units = tonumber(ARGV[3])
local policies = {}
for i = 19, #ARGV, 4 do
  policies[ARGV[i]] = {tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])}
end
local subject, key_id, token_tier, customer = ARGV[6], ARGV[12], ARGV[4], ARGV[7]
local k_deny_sub, k_deny_key, k_tier, k_window, k_period, k_customer, k_cap =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7], KEYS[9]
if subject == '' then
  local entry = redis.call('HMGET', KEYS[8], 'state', 'subject', 'key_id', 'tier', 'customer', 'expires_at')
  local state = entry[1]
  if not state then return {-4} end
  if state == 'unknown' then return {-5} end
  if state ~= 'active' then return {-2} end
  if entry[6] and entry[6] ~= '' and tonumber(entry[6]) <= now then return {-6, entry[6]} end
  subject, key_id, customer = entry[2], entry[3], entry[5] or ''
  -- A tier no longer configured falls back to the one the Worker named (the strictest).
  if policies[entry[4]] then token_tier = entry[4] end
  k_deny_sub = '${KEY_PREFIXES.denySubject}' .. subject
  k_deny_key = '${KEY_PREFIXES.denyApiKey}' .. key_id
  k_tier = '${KEY_PREFIXES.tierOverride}' .. subject
  k_window = '${KEY_PREFIXES.rateWindow}' .. subject
  k_period = '${KEY_PREFIXES.periodUsage}' .. subject .. ':' .. ARGV[11]
  k_customer = '${KEY_PREFIXES.customerOverride}' .. subject
  k_cap = '${KEY_PREFIXES.spendCap}' .. subject
end

if redis.call('EXISTS', k_deny_sub) == 1 then return {-1} end
if redis.call('EXISTS', k_deny_key) == 1 then return {-2} end

local tier = token_tier
local override = redis.call('GET', k_tier)
if override and policies[override] then tier = override end
local policy = policies[tier]
if not policy then return {-3, tier} end
local limit, window = policy[1], policy[2]
local billed_customer = redis.call('GET', k_customer)
if billed_customer then customer = billed_customer end

-- The window is at most WINDOW_RUNS runs, whatever the limit (rate-window.ts): one short string.
-- A read of the account (ARGV[16] = 'reads') counts against a window of its own, so a caller
-- limited on validation can still look at why; the validation window is only read, to show it.
local tier_state = nil
if ARGV[16] ~= '' then
  local tier_window = window_load(k_window, window, now)
  tier_state = {limit, math.max(limit - tier_window.used, 0), window_reset(tier_window), window}
  k_window = k_window .. ':' .. ARGV[16]
  limit, window = tonumber(ARGV[17]), tonumber(ARGV[18])
end

if units > 0 and redis.call('EXISTS', '${KEY_PREFIXES.appended}' .. ARGV[2] .. ':compensate',
    '${KEY_PREFIXES.appended}' .. ARGV[2] .. ':admit') > 0 then
  return {-11}
end

local rate_window = window_load(k_window, window, now)
local used = rate_window.used
local cost = math.max(units, 1)

local function reset_ms() return window_reset(rate_window) end

local function period_units()
  return tonumber(redis.call('GET', k_period) or '0')
end

local k_idem
if ARGV[13] ~= '' then
  k_idem = '${KEY_PREFIXES.idempotency}' .. subject .. ':' .. ARGV[13]
  local held = redis.call('HMGET', k_idem, 'fingerprint', 'state', 'status', 'stored', 'body', 'units')
  if held[1] then
    local left = math.max(limit - used, 0)
    if held[1] ~= ARGV[14] then
      return {-7, tier, limit, left, reset_ms(), window, period_units(), customer, subject, key_id}
    end
    if held[2] ~= 'done' then
      return {-8, tier, limit, left, reset_ms(), window, period_units(), customer, subject, key_id}
    end
    return {2, tier, limit, left, reset_ms(), window, period_units(), customer, subject, key_id,
      held[3], held[4] or '0', held[5] or '', held[6] or '0'}
  end
end

if cost > limit then
  return {-9, tier, limit, math.max(limit - used, 0), reset_ms(), window, period_units(), customer, subject, key_id}
end
-- The monthly allowance: the tier's quota or the subject's own cap, whichever is lower.
if units > 0 then
  local allowance, kind = policy[3], 'quota'
  local cap = tonumber(string.match(redis.call('GET', k_cap) or '', '^(%d+):') or '')
  if cap and (not allowance or cap < allowance) then allowance, kind = cap, 'cap' end
  if allowance then
    local period = period_units()
    if period + units > allowance then
      return {-10, tier, limit, math.max(limit - used, 0), reset_ms(), window, period, customer, subject, key_id,
        kind, allowance}
    end
  end
end
if used + cost > limit then
  return {0, tier, limit, math.max(limit - used, 0), window_wait(rate_window, limit, cost), window, period_units(), customer, subject, key_id}
end

window_admit(rate_window, cost)
if k_idem then
  redis.call('HSET', k_idem, 'fingerprint', ARGV[14], 'state', 'pending', 'usage_id', ARGV[2])
  redis.call('PEXPIRE', k_idem, ARGV[15])
end

local usage
if units ~= 0 then
  usage = redis.call('INCRBY', k_period, units)
  redis.call('EXPIREAT', k_period, ARGV[9])
  add_usage_counters(subject, units, ARGV[8])
  redis.call('XADD', KEYS[6], '*',
    'id', ARGV[2], 'kind', 'admit', 'request_id', ARGV[5], 'subject', subject,
    'stripe_customer_id', customer, 'tier', tier, 'units', ARGV[3], 'ts', ARGV[8], 'source', 'live')
  redis.call('EXPIRE', KEYS[6], ARGV[10])
else
  usage = period_units()
end

if tier_state then
  return {1, tier, limit, limit - used - cost, reset_ms(), window, usage, customer, subject, key_id,
    tier_state[1], tier_state[2], tier_state[3], tier_state[4]}
end
return {1, tier, limit, limit - used - cost, reset_ms(), window, usage, customer, subject, key_id}
`;
