/**
 * `GET /v1/billing/meters/:id/event_summaries`, as Stripe's API reference documents it:
 * - `customer`, `start_time` (inclusive) and `end_time` (exclusive) are required; both times must
 *   be aligned with minute boundaries.
 * - `value_grouping_window` (`hour` or `day`) splits the range into one summary per window (UTC);
 *   without it, one summary covers the whole range.
 * - Each item: `{ id, object: "billing.meter_event_summary", aggregated_value, start_time,
 *   end_time, livemode, meter }`, in Stripe's list envelope (newest first, `limit` 1-100, default
 *   10, `starting_after` / `ending_before` by id).
 * - Meter events are aggregated asynchronously, so summaries are eventually consistent: an event
 *   shows only `summaryLagMs` after it was accepted (MeterEventRules; 0 by default).
 */
import { createHash } from "node:crypto";
import { invalidParam, missingParam, noSuchResource } from "../errors";
import { listResponse } from "../list";
import { optionalInteger, optionalString, requiredString } from "../params";
import type { ApiHandler } from "../state";

const WINDOW_SECONDS = { hour: 3600, day: 86_400 } as const;

function alignedTime(params: Parameters<ApiHandler>[1]["params"], key: string): number {
  const value = optionalInteger(params, key);
  if (value === undefined) throw missingParam(key);
  if (value % 60 !== 0) throw invalidParam(key, `${key} must be aligned with minute boundaries.`);
  return value;
}

export const listMeterEventSummaries: ApiHandler = (ctx, { params, pathParams: [meterId = ""] }) => {
  const meter = ctx.store.meters.get(meterId);
  if (!meter) throw noSuchResource("billing meter", meterId);
  const customer = requiredString(params, "customer");
  const start = alignedTime(params, "start_time");
  const end = alignedTime(params, "end_time");
  if (end <= start) throw invalidParam("end_time", "end_time must be after start_time.");
  const grouping = optionalString(params, "value_grouping_window");
  if (grouping !== undefined && !(grouping in WINDOW_SECONDS)) {
    throw invalidParam("value_grouping_window", "Invalid value_grouping_window: must be one of hour or day.");
  }
  const step = grouping ? WINDOW_SECONDS[grouping as keyof typeof WINDOW_SECONDS] : end - start;
  const visibleBefore = ctx.clock.nowMs() - ctx.rules.summaryLagMs;
  const events = ctx.store.meterEvents.filter(
    (event) =>
      event.meter === meterId && event.customer === customer && event.created * 1000 <= visibleBefore,
  );
  const summaries = [];
  // Windows are aligned to UTC hours or days; the first and last are clipped to the range.
  for (let from = start; from < end; ) {
    const next = grouping ? Math.min(end, (Math.floor(from / step) + 1) * step) : end;
    const value = events
      .filter((event) => event.timestamp >= from && event.timestamp < next)
      .reduce((sum, event) => sum + event.value, 0);
    summaries.push({
      id: `mtrusg_test_${createHash("sha256").update(`${meterId}|${customer}|${from}|${next}`).digest("hex").slice(0, 40)}`,
      object: "billing.meter_event_summary",
      aggregated_value: value,
      end_time: next,
      livemode: false,
      meter: meterId,
      start_time: from,
    });
    from = next;
  }
  return listResponse(`/v1/billing/meters/${meterId}/event_summaries`, summaries, params);
};
