import { BUCKET_KEY_PREFIXES } from "../../metering/scripts/keys";

/**
 * seal-buckets: closes the usage buckets that are done and hands the flusher every sealed bucket
 * not yet deleted, in one round trip.
 *
 * Guarantees (atomic):
 * - A bucket is sealed when no entry reached it for ARGV[2] ms (FLUSH_SETTLE_SECONDS: a refund's
 *   compensation, appended right after its response, has had time to net in), or it was opened
 *   ARGV[3] ms ago (FLUSH_SEAL_SECONDS: a customer who never stops is still billed every few
 *   minutes), or its hour ended ARGV[2] ms ago. Sealing renames it to `sealed` + seal id (ARGV[4],
 *   a prefix random per call, and a counter) in the same script that removes it from the open
 *   index: a drain after that writes a new bucket, never this one. So a sealed bucket never changes.
 * - Sealed buckets stay in Redis, listed in the sealed index, until release-buckets deletes them,
 *   which the flusher calls only after Postgres committed them (keyed by seal id, `on conflict do
 *   nothing`). A run that dies between sealing and moving, or between moving and deleting, leaves
 *   them listed: the next call returns them again, and moving them again is a no-op.
 * - At most ARGV[5] buckets are sealed and at most ARGV[5] returned per call.
 *
 * KEYS: 1 open-bucket index, 2 sealed index
 * ARGV: 1 now (ms), 2 quiet time (ms), 3 most time open (ms), 4 seal id prefix, 5 most buckets,
 *       6 TTL of sealed buckets (s)
 * Reply: {sealed now, {{seal id, field, value, ...}, ...}}
 */
export const SEAL_BUCKETS_LUA = `
local now, quiet, open_most = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local SEALED = '${BUCKET_KEY_PREFIXES.sealed}'
local sealed = 0
local candidates = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
for _, key in ipairs(candidates) do
  local v = redis.call('HMGET', key, 'w', 'f', 't')
  if not v[1] then
    redis.call('ZREM', KEYS[1], key)
  else
    local wrote, opened, start = tonumber(v[1]), tonumber(v[2] or v[1]), tonumber(v[3] or '0')
    local hour_end = (math.floor(start / 3600) + 1) * 3600000
    if wrote <= now - quiet or opened <= now - open_most or hour_end <= now - quiet then
      sealed = sealed + 1
      local id = ARGV[4] .. sealed
      redis.call('RENAME', key, SEALED .. id)
      redis.call('HSET', SEALED .. id, 'id', id)
      redis.call('EXPIRE', SEALED .. id, ttl)
      redis.call('ZREM', KEYS[1], key)
      redis.call('ZADD', KEYS[2], now, SEALED .. id)
    end
  end
end
if sealed > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
local out = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, limit - 1)) do
  local fields = redis.call('HGETALL', key)
  if #fields == 0 then redis.call('ZREM', KEYS[2], key) else out[#out + 1] = fields end
end
return {sealed, out}
`;

/**
 * release-buckets: deletes sealed buckets Postgres holds (after ingest_usage_buckets committed).
 * Atomic; deleting one twice is harmless.
 *
 * KEYS: 1 sealed index
 * ARGV: seal ids
 * Reply: buckets deleted
 */
export const RELEASE_BUCKETS_LUA = `
local deleted = 0
for i = 1, #ARGV do
  local key = '${BUCKET_KEY_PREFIXES.sealed}' .. ARGV[i]
  deleted = deleted + redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], key)
end
return deleted
`;

/**
 * sync-boundaries: mirrors billing period boundaries into Redis, so drain-usage splits buckets at
 * them (a batch must never straddle a period: migrations/0016). One sorted set per customer
 * (score and member the boundary, unix s), kept ARGV[1] s after its last write; the cursor
 * (KEYS[1]) is the latest recorded_at mirrored, so each run asks Postgres only for what is new.
 * Without the cursor (a new or emptied Redis) the flusher mirrors the last ARGV[1] s again.
 *
 * KEYS: 1 cursor
 * ARGV: 1 TTL (s), 2 new cursor (ms, "" to keep), then pairs (customer, boundary)
 * Reply: boundaries written
 */
export const SYNC_BOUNDARIES_LUA = `
local ttl = tonumber(ARGV[1])
local n = 0
for i = 3, #ARGV, 2 do
  local key = '${BUCKET_KEY_PREFIXES.bounds}' .. ARGV[i]
  n = n + redis.call('ZADD', key, ARGV[i + 1], ARGV[i + 1])
  redis.call('EXPIRE', key, ttl)
end
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl) end
return n
`;
