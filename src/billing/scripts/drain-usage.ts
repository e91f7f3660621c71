import { BUCKET_KEY_PREFIXES, KEY_PREFIXES } from "../../metering/scripts/keys";

/**
 * The most units one record may carry. The largest legitimate call is a full batch with enrichment
 * (MAX_BATCH_DOCUMENTS × 2, 200 by default); anything near this is a producer bug, and the cap keeps
 * every per-customer sum far inside what the buckets' arithmetic holds.
 */
export const MAX_UNITS_PER_RECORD = 1_000_000;

/**
 * drain-usage: adds one chunk of the usage stream to the usage buckets and deletes it, inside
 * Redis, in one atomic script (issue 17, item 1: aggregate before storing).
 *
 * Why in Redis: the stream holds one entry per request; moving each to the Worker and Postgres made
 * ingestion cost grow with requests (3,727 records/s, 608 bytes of Postgres per request). Here an
 * entry never leaves Redis: its units join a bucket (a hash per Stripe customer, account and UTC
 * hour, split at a known billing period boundary) and the entry is deleted in the same script.
 * Only buckets (customers × hours) move on, through seal-buckets.ts. The flusher passes chunks of
 * 2,000 entries (about 40 ms of Redis time on the loaded 2-core bench machine), so the script never
 * holds admission up for long.
 *
 * Guarantees (a Lua script runs atomically: no other command interleaves):
 * - Each entry is counted at most once and deleted exactly when counted (or dead-lettered, or
 *   skipped as free): the add and the delete (XTRIM below the next id: the chunk is the stream's
 *   oldest entries) are one step. Two flushers draining at once take
 *   different entries; a run killed between two scripts leaves every entry either drained or in
 *   the stream. There is no consumer group and nothing pending.
 * - Only entries whose stream id is at most ARGV[2] (ms) are taken: the flusher passes now minus
 *   FLUSH_SETTLE_SECONDS, so the records an uncertain admission leaves (see below) are in Redis or
 *   Postgres before the admission they concern is drained.
 * - Entries are checked as the producers write them (test/integration/billing/poison.test.ts pins
 *   every rule and its reason): id 8-64 of [A-Za-z0-9_-], kind admit or compensate, whole units of
 *   the kind's sign within MAX_UNITS_PER_RECORD, ts as `Date.prototype.toISOString` writes it (a
 *   4-digit year from 2000, UTC, a real date), request id, subject and tier of 1-255 characters
 *   without control characters. A malformed entry is copied to the dead-letter stream with its
 *   reason and raw fields, never dropped silently. An entry without a Stripe customer (free tier)
 *   has nothing to bill and is only deleted.
 * - Exactness per usage id without a row per request: the row-per-request ledger deduplicated by
 *   (id, kind) and netted a compensation only against an admission it held. That knowledge is only
 *   needed for the records that can repeat or be uncertain (compensations and records replayed from
 *   Postgres), and those already leave a marker (`sm:appended:<id>:<kind>`, append-usage.ts, 7 days):
 *   * an admission whose admit marker says `counted` was counted already (the copy the timed-out
 *     admission script wrote, and its replay from Postgres): skipped as a duplicate. An admission
 *     counted while such a marker exists marks it `counted`;
 *   * an admission counted while a compensation marker exists, or whose id is held (ARGV[7..]: ids
 *     still waiting in Postgres for replay), leaves `sm:counted:<id>` (7 days), and a held id also
 *     gets its admit marker as `counted`, so the replay that follows is refused by the marker;
 *   * a compensation nets (its units go to `compensated`) when it is certain (field `certain` 1:
 *     the Worker had the admission's answer, so the admission precedes it in the stream) or its
 *     admission was counted (`sm:counted:<id>`); otherwise it is an orphan: kept as `orphaned`
 *     units, never billed, as the old ledger kept compensations whose admission it never saw.
 *   The admission script refuses a usage id that already has a marker (admit-usage.ts), so an
 *   admission that runs after its compensation or replay was recorded is never counted.
 * - A compensation goes to the bucket of its admission (same customer, account and time). If that
 *   bucket was sealed meanwhile, the write opens a new bucket of the same hour: still subtracted
 *   exactly once, from the same customer, period and billing segment.
 * - Every bucket gets the bucket TTL (ARGV[3], refreshed on each write), the dead-letter stream its
 *   TTL (ARGV[4]), the markers theirs (7 days).
 *
 * KEYS: 1 usage stream, 2 dead-letter stream, 3 open-bucket index (sorted set, score = first write)
 * ARGV: 1 most entries, 2 newest stream id to take (ms), 3 bucket TTL (s), 4 dead-letter TTL (s),
 *       5 now (ms), 6 marker TTL (s), 7.. held usage ids
 * Reply: {entries taken, billable, free, poison, duplicates, orphans, buckets written}
 */
export const DRAIN_USAGE_LUA = `
local max_entries = tonumber(ARGV[1])
local bucket_ttl, dead_ttl, now, marker_ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local held = {}
for i = 7, #ARGV do held[ARGV[i]] = true end
local MARK, COUNTED = '${KEY_PREFIXES.appended}', '${BUCKET_KEY_PREFIXES.counted}'
local BUCKET, BOUNDS = '${BUCKET_KEY_PREFIXES.open}', '${BUCKET_KEY_PREFIXES.bounds}'
local MAX_UNITS = ${MAX_UNITS_PER_RECORD}

local find, match, byte, gsub = string.find, string.match, string.byte, string.gsub
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
local month_days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
-- ms since the epoch of the UTC day 'YYYY-MM-DD' (cached: a chunk spans a few days at most), or nil.
local day_ms = {}
local function day_of(ts)
  local date = string.sub(ts, 1, 10)
  local known = day_ms[date]
  if known ~= nil then return known end
  local y, mo, d = tonumber(string.sub(ts, 1, 4)), tonumber(string.sub(ts, 6, 7)), tonumber(string.sub(ts, 9, 10))
  local ok = mo >= 1 and mo <= 12 and d >= 1
  if ok then
    local dim = month_days[mo]
    if mo == 2 and y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) then dim = 29 end
    ok = d <= dim
  end
  known = ok and days_from_civil(y, mo, d) * 86400000 or false
  day_ms[date] = known
  return known
end
-- ms since the epoch of a timestamp exactly as the producers write it (toISOString), else nil.
local function parse_ts(ts)
  if type(ts) ~= 'string' then return nil end
  local n = #ts
  if n == 24 then
    if not find(ts, '^2%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$') then return nil end
  elseif n < 20 or n > 24 or not find(ts, '^2%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d') or
      not (n == 20 or find(ts, '^%.%d%d?%d?Z$', 20)) or byte(ts, n) ~= 90 then
    return nil
  end
  local day = day_of(ts)
  if not day then return nil end
  local h1, h2, _, i1, i2, _, s1, s2 = byte(ts, 12, 19)
  local h, mi, sec = (h1 - 48) * 10 + h2 - 48, (i1 - 48) * 10 + i2 - 48, (s1 - 48) * 10 + s2 - 48
  if h > 23 or mi > 59 or sec > 59 then return nil end
  local ms = 0
  if n > 21 then
    local f1, f2, f3 = byte(ts, 21, n - 1)
    ms = (f1 - 48) * 100 + ((f2 or 48) - 48) * 10 + ((f3 or 48) - 48)
  end
  return day + ((h * 60 + mi) * 60 + sec) * 1000 + ms
end
-- 1 to 255 characters, no control characters (C0, DEL, C1) and no lone surrogates.
local function text_ok(v)
  if type(v) ~= 'string' or #v == 0 then return false end
  if not find(v, '[^\\32-\\126]') then return #v <= 255 end
  if find(v, '[%z\\1-\\31\\127]') or find(v, '\\194[\\128-\\159]') or find(v, '\\237[\\160-\\191]') then
    return false
  end
  local _, continuation = gsub(v, '[\\128-\\191]', '')
  return #v - continuation <= 255
end
local function classify(f)
  local id, kind, units = f.id, f.kind, f.units
  if not id or #id < 8 or #id > 64 or find(id, '[^%w_%-]') then return nil, 'missing or malformed id' end
  -- (every refusal below answers nil and the reason)
  if kind ~= 'admit' and kind ~= 'compensate' then return nil, 'unknown kind ' .. tostring(kind or 'undefined') end
  if not units or not find(units, '^%-?%d+$') or #units - (byte(units, 1) == 45 and 1 or 0) > 9 then
    return nil, 'units not a whole number'
  end
  local value = tonumber(units)
  if (kind == 'admit' and value <= 0) or (kind == 'compensate' and value >= 0) then
    return nil, 'units ' .. string.format('%d', value) .. ' have the wrong sign for ' .. kind
  end
  if value > MAX_UNITS or value < -MAX_UNITS then
    return nil, 'units ' .. string.format('%d', value) .. ' beyond the ' .. MAX_UNITS .. ' a record may carry'
  end
  local at = parse_ts(f.ts)
  if not at then return nil, 'ts not an ISO 8601 UTC timestamp' end
  local subject, tier, request_id = f.subject, f.tier, f.request_id
  if not subject or subject == '' or not tier or tier == '' or request_id == nil then return nil, 'missing fields' end
  if not text_ok(request_id) then return nil, 'request_id empty, too long or with control characters' end
  if not text_ok(subject) then return nil, 'subject empty, too long or with control characters' end
  if not text_ok(tier) then return nil, 'tier empty, too long or with control characters' end
  local customer = f.stripe_customer_id or ''
  if customer ~= '' and not text_ok(customer) then
    return nil, 'stripe_customer_id too long or with control characters'
  end
  return id, kind, value, at, subject, customer
end

-- Billing period boundaries (unix s) of a customer, mirrored from Postgres (sync-boundaries.ts).
local bounds_of = {}
local function bucket_start(customer, at)
  local start = math.floor(at / 3600000) * 3600
  local bounds = bounds_of[customer]
  if not bounds then
    bounds = redis.call('ZRANGEBYSCORE', BOUNDS .. customer, '-inf', '+inf')
    bounds_of[customer] = bounds
  end
  for i = 1, #bounds do
    local b = tonumber(bounds[i])
    if b > start and b * 1000 <= at then start = b end
  end
  return start
end

local entries = redis.call('XRANGE', KEYS[1], '-', ARGV[2], 'COUNT', max_entries)
local buckets, order, key_of = {}, {}, {}
local billable, free, poison, duplicates, orphans = 0, 0, 0, 0, 0
-- The producers (admit-usage, append-usage) write the fields in one order: read those entries by
-- position into one reused table (a new table per entry, grown key by key, was a third of the
-- drain's time); any other entry is read field by field.
local ORDER = {'id', 'kind', 'request_id', 'subject', 'stripe_customer_id', 'tier', 'units', 'ts', 'source'}
local fast = {}
local function fields_of(list)
  local n = #list
  if (n == 18 or (n == 20 and list[19] == 'certain')) and list[1] == 'id' and list[3] == 'kind'
      and list[5] == 'request_id' and list[7] == 'subject' and list[9] == 'stripe_customer_id'
      and list[11] == 'tier' and list[13] == 'units' and list[15] == 'ts' and list[17] == 'source' then
    for i = 1, 9 do fast[ORDER[i]] = list[i * 2] end
    fast.certain = list[20]
    return fast
  end
  local fields = {}
  for i = 1, n, 2 do fields[list[i]] = list[i + 1] end
  return fields
end

for e = 1, #entries do
  local entry = entries[e]
  local fields = fields_of(entry[2] or {})
  local id, kind, units, at, subject, customer = classify(fields)
  if not id then
    poison = poison + 1
    redis.call('XADD', KEYS[2], '*', 'entry_id', entry[1], 'reason', kind, 'fields', cjson.encode(fields))
  elseif customer == '' then
    free = free + 1
  else
    billable = billable + 1
    local start = bucket_start(customer, at)
    local by_subject = key_of[customer]
    if not by_subject then by_subject = {}; key_of[customer] = by_subject end
    local by_start = by_subject[subject]
    if not by_start then by_start = {}; by_subject[subject] = by_start end
    local key = by_start[start]
    if not key then
      key = BUCKET .. start .. ':' .. #customer .. ':' .. customer .. ':' .. subject
      by_start[start] = key
    end
    local b = buckets[key]
    if not b then
      b = {customer = customer, subject = subject, start = start, a = 0, m = 0, o = 0, n = 0, l = 0, e = at}
      buckets[key] = b
      order[#order + 1] = key
    end
    local counted = true
    if kind == 'admit' then
      local k_admit, k_comp = MARK .. id .. ':admit', MARK .. id .. ':compensate'
      local marked = redis.call('EXISTS', k_admit, k_comp) > 0
      if marked then
        local state = redis.call('GET', k_admit)
        if state == 'counted' then
          counted = false
          duplicates = duplicates + 1
        elseif state then
          redis.call('SET', k_admit, 'counted', 'KEEPTTL')
        end
      end
      if counted then
        b.a = b.a + units
        if marked or held[id] then redis.call('SET', COUNTED .. id, '1', 'EX', marker_ttl) end
        if held[id] then redis.call('SET', k_admit, 'counted', 'NX', 'EX', marker_ttl) end
      end
    elseif fields.certain == '1' or redis.call('EXISTS', COUNTED .. id) == 1 then
      b.m = b.m - units
    else
      b.o = b.o - units
      orphans = orphans + 1
    end
    if counted then
      b.n = b.n + 1
      if at > b.l then b.l = at end
      if at < b.e then b.e = at end
    end
  end
end

local written = 0
for _, key in ipairs(order) do
  local b = buckets[key]
  if b.n > 0 then
    written = written + 1
    if b.a ~= 0 then redis.call('HINCRBY', key, 'a', b.a) end
    if b.m ~= 0 then redis.call('HINCRBY', key, 'm', b.m) end
    if b.o ~= 0 then redis.call('HINCRBY', key, 'o', b.o) end
    redis.call('HINCRBY', key, 'n', b.n)
    local known = redis.call('HMGET', key, 'l', 'e')
    local last, earliest = tonumber(known[1] or '0'), tonumber(known[2] or b.e)
    if b.l > last then last = b.l end
    if b.e < earliest then earliest = b.e end
    redis.call('HSET', key, 'c', b.customer, 's', b.subject, 't', b.start, 'l', last, 'e', earliest, 'w', now)
    redis.call('HSETNX', key, 'f', now)
    redis.call('ZADD', KEYS[3], 'NX', now, key)
    redis.call('EXPIRE', key, bucket_ttl)
  end
end
if written > 0 then redis.call('EXPIRE', KEYS[3], bucket_ttl) end
if poison > 0 then redis.call('EXPIRE', KEYS[2], dead_ttl) end
-- The entries taken are the oldest of the stream, up to the last one: trimming below the next id
-- deletes exactly them (and is much cheaper than XDEL of each id).
if #entries > 0 then
  local last = entries[#entries][1]
  local ms, seq = match(last, '^(%d+)%-(%d+)$')
  redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. string.format('%d', tonumber(seq) + 1))
end
return {#entries, billable, free, poison, duplicates, orphans, written}
`;
