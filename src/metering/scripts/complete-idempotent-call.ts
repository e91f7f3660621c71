/**
 * complete-idempotent-call: after the response of a call made with an Idempotency-Key, keeps what
 * a retry is answered with, or forgets the key when the call was not a success.
 *
 * Guarantees:
 * - Only the call that admitted the entry completes it (its usage id must match): a late completion
 *   of a call whose pending entry expired and was taken by a retry changes nothing (reply 0).
 * - A 2xx is kept for ARGV[6] seconds (24 h): status, whether the body was kept, the body (empty
 *   when it was over the cap), units. Reply 1.
 * - Any other status deletes the entry (reply 2): the call was not billed, so a retry is a new call.
 *
 * KEYS: 1 the idempotency entry (keys.ts `idempotency`)
 * ARGV: 1 usage id, 2 status, 3 body kept ("1"/"0"), 4 body, 5 units, 6 TTL (s)
 */
export const COMPLETE_IDEMPOTENT_CALL_LUA = `
if redis.call('HGET', KEYS[1], 'usage_id') ~= ARGV[1] then return 0 end
local status = tonumber(ARGV[2])
if status < 200 or status >= 300 then
  redis.call('DEL', KEYS[1])
  return 2
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'stored', ARGV[3], 'body', ARGV[4], 'units', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
`;
