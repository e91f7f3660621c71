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
 * Only buckets (customers × hours) move on, through seal-buckets.ts. A chunk of 5,000 entries takes
 * tens of milliseconds of Redis time, so the script never blocks admission for long.
 *
 * Guarantees (a Lua script runs atomically: no other command interleaves):
 * - Each entry is counted at most once and deleted exactly when counted (or dead-lettered, or
 *   skipped as free): the add and the XDEL are one step. Two flushers draining at once take
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

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
local month_days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
-- ms since the epoch of a timestamp exactly as the producers write it (toISOString), else nil.
local function parse_ts(ts)
  if type(ts) ~= 'string' then return nil end
  local y, mo, d, h, mi, s, frac = string.match(ts, '^(2%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(.-)Z$')
  if not y then return nil end
  local ms = 0
  if frac ~= '' then
    local digits = string.match(frac, '^%.(%d%d?%d?)$')
    if not digits then return nil end
    ms = tonumber(digits .. string.rep('0', 3 - #digits))
  end
  y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s > 59 then return nil end
  local dim = month_days[mo]
  if mo == 2 and y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) then dim = 29 end
  if d > dim then return nil end
  return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + ms
end
-- 1 to 255 characters, no control characters (C0, DEL, C1) and no lone surrogates.
local function text_ok(v)
  if type(v) ~= 'string' or #v == 0 then return false end
  if string.find(v, '[%z\\1-\\31\\127]') or string.find(v, '\\194[\\128-\\159]') or string.find(v, '\\237[\\160-\\191]') then
    return false
  end
  local _, continuation = string.gsub(v, '[\\128-\\191]', '')
  return #v - continuation <= 255
end
local function classify(f)
  local id, kind, units = f.id, f.kind, f.units
  if not id or #id < 8 or #id > 64 or string.find(id, '[^%w_%-]') then return nil, 'missing or malformed id' end
  if kind ~= 'admit' and kind ~= 'compensate' then return nil, 'unknown kind ' .. tostring(kind or 'undefined') end
  if not units or not string.match(units, '^%-?%d+$') or #string.gsub(units, '^%-', '') > 9 then
    return nil, 'units not a whole number'
  end
  local value = tonumber(units)
  if (kind == 'admit' and value <= 0) or (kind == 'compensate' and value >= 0) then
    return nil, 'units ' .. string.format('%d', value) .. ' have the wrong sign for ' .. kind
  end
  if math.abs(value) > MAX_UNITS then
    return nil, 'units ' .. string.format('%d', value) .. ' beyond the ' .. MAX_UNITS .. ' a record may carry'
  end
  local at = parse_ts(f.ts)
  if not at then return nil, 'ts not an ISO 8601 UTC timestamp' end
  if not f.subject or f.subject == '' or not f.tier or f.tier == '' or f.request_id == nil then return nil, 'missing fields' end
  for _, name in ipairs({'request_id', 'subject', 'tier'}) do
    if not text_ok(f[name]) then return nil, name .. ' empty, too long or with control characters' end
  end
  local customer = f.stripe_customer_id or ''
  if customer ~= '' and not text_ok(customer) then
    return nil, 'stripe_customer_id too long or with control characters'
  end
  return {id = id, kind = kind, units = value, at = at, subject = f.subject, customer = customer,
    certain = f.certain == '1'}
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
local buckets, order = {}, {}
local billable, free, poison, duplicates, orphans = 0, 0, 0, 0, 0
local ids = {}
for _, entry in ipairs(entries) do
  ids[#ids + 1] = entry[1]
  local fields, list = {}, entry[2] or {}
  for i = 1, #list, 2 do fields[list[i]] = list[i + 1] end
  local r, reason = classify(fields)
  if not r then
    poison = poison + 1
    redis.call('XADD', KEYS[2], '*', 'entry_id', entry[1], 'reason', reason, 'fields', cjson.encode(fields))
  elseif r.customer == '' then
    free = free + 1
  else
    billable = billable + 1
    local start = bucket_start(r.customer, r.at)
    local key = BUCKET .. start .. ':' .. #r.customer .. ':' .. r.customer .. ':' .. r.subject
    local b = buckets[key]
    if not b then
      b = {customer = r.customer, subject = r.subject, start = start, a = 0, m = 0, o = 0, n = 0, l = 0, e = r.at}
      buckets[key] = b
      order[#order + 1] = key
    end
    local counted = true
    if r.kind == 'admit' then
      local k_admit, k_comp = MARK .. r.id .. ':admit', MARK .. r.id .. ':compensate'
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
        b.a = b.a + r.units
        if marked or held[r.id] then redis.call('SET', COUNTED .. r.id, '1', 'EX', marker_ttl) end
        if held[r.id] then redis.call('SET', k_admit, 'counted', 'NX', 'EX', marker_ttl) end
      end
    elseif r.certain or redis.call('EXISTS', COUNTED .. r.id) == 1 then
      b.m = b.m - r.units
    else
      b.o = b.o - r.units
      orphans = orphans + 1
    end
    if counted then
      b.n = b.n + 1
      if r.at > b.l then b.l = r.at end
      if r.at < b.e then b.e = r.at end
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
for i = 1, #ids, 500 do
  redis.call('XDEL', KEYS[1], unpack(ids, i, math.min(i + 499, #ids)))
end
return {#entries, billable, free, poison, duplicates, orphans, written}
`;
