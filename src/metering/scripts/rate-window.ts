import { KEY_PREFIXES } from "./keys";

/**
 * The rate-limit window of one subject in a fixed amount of state: a sliding-window log compacted
 * into at most WINDOW_RUNS runs, whatever the tier's limit.
 *
 * A run is admitted units counted together: `t` the time (ms) of its newest admission, `u` its
 * units, `d` its span (its oldest admission was at `t - d`). A run counts in the window while
 * `t > now - window` and leaves it whole at `t + window`. Every admission is appended as a run of
 * its own (one in the same millisecond as the newest run joins it: same time, nothing lost). Only
 * when that would make more than WINDOW_RUNS runs: the newest run takes the admission if its span
 * stays within S (below), else the two adjacent runs whose union spans the least are merged into
 * one (the newer's `t`, the sum of units, the union's span). So a busy subject's admission touches
 * the newest run and the oldest only; the full merge runs at most about once per S per subject.
 *
 * What this keeps of the log's promises:
 * - Never more than the limit in any window: a unit counts at least until `admitted + window` (its
 *   run's `t` is never earlier than it), so every admission sees at least what the exact log would
 *   see. Merging only ever makes units count longer, never shorter.
 * - Exact while a window holds at most WINDOW_RUNS distinct admission times (so always for a limit
 *   of WINDOW_RUNS or less: each run holds at least one unit): no run was merged, each unit leaves
 *   exactly one window after its admission, as in the log.
 * - Error bound otherwise: a unit may count up to S = 2 * window / (WINDOW_RUNS - 2) (window / 15:
 *   667 ms of a 10 s window) after it would have left the log, as no run spans more than S. Proof:
 *   the newest run takes an admission only within S; and with m + 1 >= WINDOW_RUNS + 1 ordered
 *   disjoint live runs each spanning at most S, the m adjacent unions span in total at most
 *   2 (now - s1) < 2 (window + S) (s1 the oldest run's start), so the least is below
 *   2 (window + S) / WINDOW_RUNS = S. The error only delays admission (stricter, never looser), by
 *   at most S, and only for a subject with more than WINDOW_RUNS admission times in a window.
 * - The 429's reset is exact for this state: the time the oldest runs that free enough units leave.
 *   A refused call writes nothing, so a caller that waits that long is admitted (if nothing else
 *   was admitted for the subject meanwhile).
 *
 * Stored as one string at `rateWindow(subject)` (about 20 bytes a run; format at windowRunsOf)
 * with the window's TTL (all its runs have left by then). A subject that still has the former log
 * (`rateLog(subject)`, a sorted set, from before this form) when it has no window yet gets the log's
 * live entries as runs, and the log goes: a deploy forgets no admitted unit. (That read can be
 * removed once the longest configured window has passed since the deploy.)
 */

/** Most runs one window keeps (state per subject at most ~20 bytes times this). */
export const WINDOW_RUNS = 32;

/** One run of a stored window, as the script writes it. */
export interface WindowRun {
  /** Newest admission in the run (ms). */
  atMs: number;
  units: number;
  /** From the run's oldest admission to its newest (ms). */
  spanMs: number;
}

/**
 * A stored window (what the script keeps at `rateWindow(subject)`) as its runs, oldest first; for
 * tests and operators. The stored form is `<units>:<runs>:<newest run>|<older runs>`: the units and
 * number of runs stored, then the newest run, then the others oldest first (comma-separated), each
 * `t:u:d`, so that the common admission touches only the header, the newest run and the oldest.
 */
export function windowRunsOf(stored: string | null): WindowRun[] {
  if (!stored) return [];
  const [header = "", older = ""] = stored.split("|");
  const run = (text: string): WindowRun => {
    const [atMs, units, spanMs] = text.split(":").map(Number) as [number, number, number];
    return { atMs, units, spanMs };
  };
  const newest = header.split(":").slice(2).join(":");
  return [...(older === "" ? [] : older.split(",").map(run)), run(newest)];
}

/**
 * Lua for admit-usage: `window_load(key, span, now)` reads a window (its live units in `.used`),
 * `window_reset(w)` is the ms until its oldest run leaves (`span` when empty), `window_wait(w,
 * limit, needed)` the ms until `needed` units fit, and `window_admit(w, cost)` adds an admission
 * and writes the key with TTL `span`.
 */
export const RATE_WINDOW_LUA = `
local WINDOW_RUNS = ${WINDOW_RUNS}
local RUN = '(%d+):(%d+):(%d+)'

-- Every run as arrays (oldest first): only to merge, or to read the former log.
local function window_all(w)
  local ts, us, ds = {}, {}, {}
  for t, u, d in string.gmatch(string.sub(w.older, w.from), RUN) do
    ts[#ts + 1], us[#us + 1], ds[#ds + 1] = tonumber(t), tonumber(u), tonumber(d)
  end
  if w.n > 0 then ts[#ts + 1], us[#us + 1], ds[#ds + 1] = w.nt, w.nu, w.nd end
  return ts, us, ds
end

-- Merges the two adjacent runs whose union spans the least until at most WINDOW_RUNS remain,
-- and sets w from the arrays.
local function window_set(w, ts, us, ds)
  while #ts > WINDOW_RUNS do
    local best, least = 1, nil
    for i = 1, #ts - 1 do
      local union = ts[i + 1] - (ts[i] - ds[i])
      if not least or union < least then best, least = i, union end
    end
    ts[best], us[best], ds[best] = ts[best + 1], us[best] + us[best + 1], least
    table.remove(ts, best + 1) table.remove(us, best + 1) table.remove(ds, best + 1)
  end
  local parts = {}
  for i = 1, #ts - 1 do parts[i] = string.format('%d:%d:%d', ts[i], us[i], ds[i]) end
  w.older, w.from, w.n = table.concat(parts, ','), 1, #ts
  w.nt, w.nu, w.nd = ts[#ts] or 0, us[#us] or 0, ds[#ds] or 0
end

local function window_load(key, span, now)
  local w = {key = key, span = span, now = now, used = 0, n = 0, older = '', from = 1, nt = 0, nu = 0, nd = 0}
  local stored = redis.call('GET', key)
  if not stored then
    -- None yet: the former log (a sorted set of '<usage id>' or '<usage id>|<cost>' scored by ms),
    -- if one is left from before, becomes runs with the set's TTL, and goes.
    local log = '${KEY_PREFIXES.rateLog}' .. string.sub(key, ${KEY_PREFIXES.rateWindow.length + 1})
    local entries = redis.call('ZRANGEBYSCORE', log, '(' .. (now - span), '+inf', 'WITHSCORES')
    if #entries == 0 then return w end
    local ts, us, ds = {}, {}, {}
    for i = 1, #entries, 2 do
      local at, cost = tonumber(entries[i + 1]), tonumber(string.match(entries[i], '|(%d+)$') or '1')
      if ts[#ts] == at then us[#us] = us[#us] + cost
      else ts[#ts + 1], us[#us + 1], ds[#ds + 1] = at, cost, 0 end
    end
    window_set(w, ts, us, ds)
    for i = 1, #us do w.used = w.used + us[i] end
    local ttl = redis.call('PTTL', log)
    redis.call('DEL', log, log .. ':units')
    redis.call('SET', key, string.format('%d:%d:%d:%d:%d|', w.used, w.n, w.nt, w.nu, w.nd) .. w.older,
      'PX', ttl > 0 and ttl or span)
    return w
  end
  local used, n, nt, nu, nd, older = string.match(stored, '^(%d+):(%d+):' .. RUN .. '|(.*)$')
  w.nt = tonumber(nt)
  if w.nt <= now - span then return w end
  w.used, w.n, w.nu, w.nd, w.older = tonumber(used), tonumber(n), tonumber(nu), tonumber(nd), older
  -- Runs that have left the window are the oldest: skip them (the next write drops them).
  while w.n > 1 do
    local i, j, t, u = string.find(w.older, RUN, w.from)
    if tonumber(t) > now - span then break end
    w.used, w.n, w.from = w.used - tonumber(u), w.n - 1, j + 2
  end
  return w
end

-- The oldest live run's time (the newest's when it is the only one).
local function window_oldest(w)
  if w.n > 1 then return tonumber(string.match(w.older, '^(%d+)', w.from)) end
  return w.nt
end

local function window_reset(w)
  if w.n == 0 then return w.span end
  return window_oldest(w) + w.span - w.now
end

-- When enough of the oldest runs have left for 'needed' units. Each run holds at least 1 unit and
-- used <= limit, so this reads at most 'needed' runs.
local function window_wait(w, limit, needed)
  local freed, from = 0, w.from
  for _ = 2, w.n do
    local i, j, t, u = string.find(w.older, RUN, from)
    freed, from = freed + tonumber(u), j + 2
    if w.used - freed + needed <= limit then return tonumber(t) + w.span - w.now end
  end
  return w.nt + w.span - w.now
end

local function window_admit(w, cost)
  -- A call stamped before the newest run (another isolate's clock behind) counts from that run's
  -- time: later than its own, so stricter, and the runs stay in order.
  local now = math.max(w.now, w.nt)
  if w.n > 0 and w.nt == now then
    w.nu = w.nu + cost
  elseif w.n < WINDOW_RUNS then
    if w.n > 0 then
      local newest = string.format('%d:%d:%d', w.nt, w.nu, w.nd)
      local older = string.sub(w.older, w.from)
      if older == '' then w.older = newest else w.older = older .. ',' .. newest end
      w.from = 1
    end
    w.n, w.nt, w.nu, w.nd = w.n + 1, now, cost, 0
  elseif now - (w.nt - w.nd) <= 2 * w.span / (WINDOW_RUNS - 2) then
    -- Full: the newest run takes it while its span stays within the bound.
    w.nt, w.nu, w.nd = now, w.nu + cost, now - (w.nt - w.nd)
  else
    local ts, us, ds = window_all(w)
    ts[#ts + 1], us[#us + 1], ds[#ds + 1] = now, cost, 0
    window_set(w, ts, us, ds)
  end
  w.used = w.used + cost
  local older = string.sub(w.older, w.from)
  redis.call('SET', w.key, string.format('%d:%d:%d:%d:%d|', w.used, w.n, w.nt, w.nu, w.nd) .. older, 'PX', w.span)
end
`;
