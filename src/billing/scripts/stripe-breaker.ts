/**
 * stripe-breaker: the circuit breaker around Stripe, one hash shared by every isolate and run.
 *
 * States: closed (calls go through; consecutive failures are counted), open (calls refused until
 * `open_until`), half_open (exactly one caller, the probe, goes through; everyone else is refused).
 *
 * Guarantees (atomic: state is read and changed in one script, so two isolates never both become
 * the probe, which is what kept the original sketch from ever closing reliably):
 * - acquire: closed -> allowed. open before `open_until` -> refused. open after it, or half_open
 *   whose probe lease ran out (the probe died without reporting) -> this caller becomes the probe
 *   (state half_open, probe token and lease stored) -> allowed as probe. half_open with a live
 *   probe -> refused.
 * - report success: closed -> failures reset; half_open and the caller is the probe -> closed.
 * - report failure: closed -> failures + n, open when they reach the threshold; half_open and the
 *   caller is the probe -> open again for the open period. Reports from callers that are not the
 *   probe while open/half_open change nothing (they were let through before the breaker opened).
 * - The hash has a TTL (`ARGV[6]` s, refreshed on every change): an abandoned breaker resets to
 *   closed, never sticks open.
 *
 * KEYS: 1 breaker hash
 * ARGV: 1 op (acquire|success|failure|state), 2 now (ms), 3 failure threshold, 4 open period (ms),
 *       5 probe lease (ms), 6 key TTL (s), 7 caller token, 8 failures to add (failure only)
 * Reply: {verdict (1 allowed, 2 allowed as probe, 0 refused), state, consecutive failures,
 *         open_until (ms, 0 when not open)}
 */
export const STRIPE_BREAKER_LUA = `
local now = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local openMs = tonumber(ARGV[4])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local probe = redis.call('HGET', KEYS[1], 'probe') or ''
local probeUntil = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
local op = ARGV[1]

local function save()
  redis.call('HSET', KEYS[1], 'state', state, 'failures', failures, 'open_until', openUntil,
    'probe', probe, 'probe_until', probeUntil)
  redis.call('EXPIRE', KEYS[1], ARGV[6])
end
local function open()
  state = 'open'
  openUntil = now + openMs
  probe = ''
  probeUntil = 0
end

if op == 'state' then
  return {1, state, failures, openUntil}
end

if op == 'acquire' then
  if state == 'closed' then return {1, state, failures, 0} end
  if state == 'open' and now < openUntil then return {0, state, failures, openUntil} end
  if state == 'half_open' and now < probeUntil then return {0, state, failures, openUntil} end
  state = 'half_open'
  probe = ARGV[7]
  probeUntil = now + tonumber(ARGV[5])
  save()
  return {2, state, failures, openUntil}
end

if op == 'success' then
  if state == 'closed' then
    if failures ~= 0 then
      failures = 0
      save()
    end
  elseif state == 'half_open' and probe == ARGV[7] then
    state = 'closed'
    failures = 0
    openUntil = 0
    probe = ''
    probeUntil = 0
    save()
  end
  return {1, state, failures, openUntil}
end

if op == 'failure' then
  local added = tonumber(ARGV[8] or '1')
  if state == 'closed' then
    failures = failures + added
    if failures >= threshold then open() end
    save()
  elseif state == 'half_open' and probe == ARGV[7] then
    failures = failures + added
    open()
    save()
  end
  return {1, state, failures, openUntil}
end

return redis.error_reply('stripe-breaker: unknown op ' .. op)
`;
