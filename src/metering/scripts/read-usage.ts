/**
 * read-usage: hands the flusher its share of the usage stream, in one round trip.
 *
 * Guarantees (atomic, like every Lua script):
 * - The consumer group exists afterwards, starting at the beginning of the stream (`0`): after a
 *   Redis that lost its data (or a stream that expired) the group is recreated and nothing still
 *   in the stream is skipped. MKSTREAM may create an empty stream; it gets the stream TTL so no key
 *   is left without one.
 * - Entries left pending by a consumer that died (idle at least `ARGV[4]` ms) are reclaimed first
 *   (XAUTOCLAIM), then new entries are read (XREADGROUP `>`), `ARGV[3]` in all at most. Redis
 *   delivers a new entry to one consumer only; a reclaimed entry may reach a second flusher while
 *   the first still works on it, which the ledger absorbs (it is keyed by the record's id and kind).
 * - Nothing is acknowledged or deleted here: entries stay pending until the flusher has ingested
 *   them into Postgres and calls ack-usage.
 *
 * KEYS: 1 usage stream
 * ARGV: 1 group, 2 consumer, 3 count, 4 min idle (ms) for reclaiming, 5 stream TTL (s)
 * Reply: {reclaimed count, {{entry id, {field, value, ...}}, ...}}
 */
export const READ_USAGE_LUA = `
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then
  return redis.error_reply(created.err)
end
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end

local count = tonumber(ARGV[3])
local out = {}
local n = 0
local reclaimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0', 'COUNT', count)
for _, entry in ipairs(reclaimed[2]) do
  -- Redis 6.2 lists an entry deleted from the stream with nil fields; it has nothing to bill.
  if entry[2] then
    n = n + 1
    out[n] = entry
  end
end
local reclaimedCount = n
if n < count then
  local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', count - n, 'STREAMS', KEYS[1], '>')
  if fresh and fresh[1] then
    for _, entry in ipairs(fresh[1][2]) do
      n = n + 1
      out[n] = entry
    end
  end
end
return {reclaimedCount, out}
`;
