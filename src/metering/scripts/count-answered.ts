/**
 * count-answered: adds the units of one call answered 2xx to its Stripe customer's count for the
 * call's UTC day, the reconciliation's independent side (src/metering/answered-units.ts). Run after
 * the response, never by the admission script: it must not share the usage record's faults.
 *
 * Guarantees (atomic, like every Lua script):
 * - The day's hash moves by `units` for the customer, and lives `ARGV[3]` s after its last write.
 * - The first count ever records when counting began (`since`: that call's admission, ms), so the
 *   reconciliation compares only days that were counted whole (a deployment mid-day does not read
 *   as a mismatch). Its TTL is refreshed with every count.
 *
 * KEYS: 1 the day's hash, 2 counting-since key
 * ARGV: 1 Stripe customer id, 2 units, 3 TTL (s), 4 the call's admission time (ms)
 * Reply: 1.
 */
export const COUNT_ANSWERED_LUA = `
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[4], 'NX')
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
`;
