/**
 * ack-usage: acknowledges and deletes usage stream entries the flusher has dealt with: recorded in
 * the Postgres ledger, skipped (free tier, nothing to bill) or poison (malformed).
 *
 * Guarantees (atomic):
 * - XACK and XDEL happen together, so an entry is never acknowledged but kept (the stream would
 *   grow until its TTL) nor deleted while still pending. Called only after the ledger transaction
 *   holding the entries committed, so a deleted entry is never lost: its record lives in the ledger.
 * - A poison entry is copied to the dead-letter stream (with the reason and its raw fields) in the
 *   same script that deletes it, so it is never dropped silently. The dead-letter stream gets a TTL
 *   (`ARGV[2]` s, refreshed on every write) like every key.
 * - Acknowledging an entry twice is harmless; the counts say what changed.
 *
 * KEYS: 1 usage stream, 2 dead-letter stream
 * ARGV: 1 group, 2 dead-letter TTL (s), 3 number of poison entries P,
 *       then P triples (entry id, reason, fields as JSON), then the other entry ids
 * Reply: {acknowledged, deleted, dead-lettered}
 */
export const ACK_USAGE_LUA = `
local poison = tonumber(ARGV[3])
local dead = 0
for i = 0, poison - 1 do
  local base = 4 + i * 3
  redis.call('XADD', KEYS[2], '*', 'entry_id', ARGV[base], 'reason', ARGV[base + 1], 'fields', ARGV[base + 2])
  dead = dead + 1
end
if dead > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end

local acked, deleted = 0, 0
local chunk = {}
local function flush()
  if #chunk == 0 then return end
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(chunk))
  deleted = deleted + redis.call('XDEL', KEYS[1], unpack(chunk))
  chunk = {}
end
for i = 4, 3 + poison * 3, 3 do
  chunk[#chunk + 1] = ARGV[i]
end
for i = 4 + poison * 3, #ARGV do
  chunk[#chunk + 1] = ARGV[i]
  if #chunk == 500 then flush() end
end
flush()
return {acked, deleted, dead}
`;
