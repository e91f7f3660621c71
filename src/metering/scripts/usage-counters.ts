import { KEY_PREFIXES } from "./keys";

/**
 * Units per day and hour of every account, counted where its usage is counted: admit-usage adds a
 * billed call's units, append-usage adds a replayed record's and takes a compensation's back (never
 * below zero). They are what GET /v1/usage and the console chart show for an account that has no
 * Stripe customer (free usage never reaches the billing ledger); an account with one is shown the
 * ledger's, which is what Stripe bills.
 *
 * Per account: one hash per UTC month (field: day `DD`), kept 100 days after its last write, and
 * one per UTC day (field: hour `HH`), kept 8 days: about a dozen small keys for an active account,
 * whatever its traffic. The bucket is the record's own time (`ts`, ISO 8601 UTC), so a
 * compensation lands in the bucket of the call it compensates.
 */
export const USAGE_DAYS_TTL_SECONDS = 100 * 86_400;
export const USAGE_HOURS_TTL_SECONDS = 8 * 86_400;

/** A Lua function `add_usage_counters(subject, units, ts)` for the usage scripts to call. */
export const ADD_USAGE_COUNTERS_LUA = `
local function add_usage_counters(subject, units, ts)
  local days = '${KEY_PREFIXES.usageDays}' .. subject .. ':' .. string.sub(ts, 1, 7)
  local hours = '${KEY_PREFIXES.usageHours}' .. subject .. ':' .. string.sub(ts, 1, 10)
  local day, hour = string.sub(ts, 9, 10), string.sub(ts, 12, 13)
  if redis.call('HINCRBY', days, day, units) < 0 then redis.call('HSET', days, day, 0) end
  redis.call('EXPIRE', days, ${USAGE_DAYS_TTL_SECONDS})
  if redis.call('HINCRBY', hours, hour, units) < 0 then redis.call('HSET', hours, hour, 0) end
  redis.call('EXPIRE', hours, ${USAGE_HOURS_TTL_SECONDS})
end
`;
