/**
 * release-consumer: removes flusher consumers that hold nothing, so the group does not collect one
 * consumer per run forever.
 *
 * Guarantees (atomic): a consumer is deleted only when it has no pending entries (XGROUP
 * DELCONSUMER would otherwise drop its pending entries, and with them the only trace of records
 * not yet in the ledger). The calling run's consumer goes at once when empty; other empty
 * consumers once idle for `ARGV[3]` ms (a run still reading may be between calls).
 *
 * KEYS: 1 usage stream
 * ARGV: 1 group, 2 this run's consumer, 3 idle (ms) after which other empty consumers go
 * Reply: number of consumers deleted
 */
export const RELEASE_CONSUMER_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return 0 end
local deleted = 0
local staleMs = tonumber(ARGV[3])
for _, info in ipairs(consumers) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  local mine = fields['name'] == ARGV[2]
  if tonumber(fields['pending']) == 0 and (mine or tonumber(fields['idle']) >= staleMs) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    deleted = deleted + 1
  end
end
return deleted
`;
