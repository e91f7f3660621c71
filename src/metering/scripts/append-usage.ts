import { ADD_USAGE_COUNTERS_LUA } from "./usage-counters";

/**
 * append-usage: appends one usage record that did not come through admit-usage (a compensation of
 * an admitted request that ended badly, or a record replayed from Postgres after a Redis outage).
 *
 * Guarantees (atomic, like every Lua script):
 * - Idempotent per (id, kind): a marker key is set with NX first; if it already exists nothing else
 *   happens and the reply is 0. So a retried compensation or a replay that crashed after appending
 *   but before marking its Postgres row never reaches the stream twice (within the marker's TTL).
 * - The period counter and the day and hour counters (usage-counters.ts) move by `units`
 *   (negative for a compensation, never below zero) together with the stream entry.
 * - Every key written has a TTL: the marker `ARGV[10]` s, the counter until `ARGV[9]` (unix s), the
 *   stream `ARGV[11]` s after its last write.
 *
 * KEYS: 1 marker, 2 period counter, 3 usage stream
 * ARGV: 1 id, 2 kind, 3 request id, 4 subject, 5 Stripe customer id, 6 tier, 7 units, 8 time (ISO UTC),
 *       9 counter expiry (unix s), 10 marker TTL (s), 11 stream TTL (s), 12 source (live|replay),
 *       13 certain ("1" for a compensation whose admission the Worker saw admitted, else ""): the
 *       drain nets a certain compensation without looking for its admission (drain-usage.ts)
 * Reply: 1 appended, 0 already appended earlier.
 */
export const APPEND_USAGE_LUA = `${ADD_USAGE_COUNTERS_LUA}
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[10]) then return 0 end
add_usage_counters(ARGV[4], tonumber(ARGV[7]), ARGV[8])

local usage = redis.call('INCRBY', KEYS[2], ARGV[7])
if usage < 0 then redis.call('SET', KEYS[2], 0) end
redis.call('EXPIREAT', KEYS[2], ARGV[9])

redis.call('XADD', KEYS[3], '*',
  'id', ARGV[1], 'kind', ARGV[2], 'request_id', ARGV[3], 'subject', ARGV[4],
  'stripe_customer_id', ARGV[5], 'tier', ARGV[6], 'units', ARGV[7], 'ts', ARGV[8], 'source', ARGV[12], 'certain', ARGV[13] or '')
redis.call('EXPIRE', KEYS[3], ARGV[11])
return 1
`;
