/**
 * Stripe's asynchronous meter errors, as v2 "thin" events: Stripe validates a meter event after
 * answering 200 and, when it drops some, raises `v1.billing.meter.error_report_triggered` (per
 * meter) or `v1.billing.meter.no_meter_found` (event names no meter uses). The event destination
 * receives only a notification `{ id, object: "v2.core.event", type, created, livemode,
 * related_object? }`; the receiver fetches the full event with `GET /v2/core/events/:id`, whose
 * `data` holds `developer_message_summary`, `validation_start` / `validation_end` and `reason:
 * { error_count, error_types: [{ code, error_count, sample_errors: [{ error_message, request: {
 * identifier } }] }] }` (stripe-node's V1BillingMeterErrorReportTriggeredEvent). Sample errors
 * name the meter event identifier; the fake lists at most 20 samples per code, as a sample.
 */
import { noSuchResource } from "../errors";
import { newId } from "../ids";
import type { ApiHandler, FakeContext, MeterEventError } from "../state";

const SAMPLES_PER_CODE = 20;

export interface ThinEventNotification {
  id: string;
  object: "v2.core.event";
  type: string;
  created: string;
  livemode: boolean;
  related_object?: { id: string; type: string; url: string };
}

function fullEvent(
  ctx: FakeContext,
  type: string,
  errors: MeterEventError[],
  meterId: string | null,
): { notification: ThinEventNotification; event: Record<string, unknown> } {
  const created = new Date(ctx.clock.nowMs()).toISOString();
  const byCode = new Map<string, MeterEventError[]>();
  for (const error of errors) byCode.set(error.code, [...(byCode.get(error.code) ?? []), error]);
  const relatedObject = meterId
    ? { id: meterId, type: "billing.meter", url: `/v1/billing/meters/${meterId}` }
    : undefined;
  const notification: ThinEventNotification = {
    id: newId("evt_test_", 32),
    object: "v2.core.event",
    type,
    created,
    livemode: false,
    ...(relatedObject && { related_object: relatedObject }),
  };
  const event = {
    ...notification,
    context: null,
    reason: null,
    data: {
      developer_message_summary: `${errors.length} meter event(s) could not be processed.`,
      validation_start: new Date(Math.min(...errors.map((e) => e.at)) * 1000).toISOString(),
      validation_end: created,
      reason: {
        error_count: errors.length,
        error_types: [...byCode].map(([code, list]) => ({
          code,
          error_count: list.length,
          sample_errors: list.slice(0, SAMPLES_PER_CODE).map((error) => ({
            error_message: error.message,
            request: { identifier: error.identifier },
          })),
        })),
      },
    },
  };
  return { notification, event };
}

/**
 * Raises the error reports for meter errors not reported yet: one `no_meter_found` for unknown
 * event names, one `error_report_triggered` per meter for the rest. Returns the notifications (what
 * an event destination receives); the full events are served by `GET /v2/core/events/:id`.
 */
export function raiseMeterErrorReports(ctx: FakeContext): ThinEventNotification[] {
  const fresh = ctx.store.meterEventErrors.filter((e) => !ctx.store.reportedMeterErrors.has(e.identifier));
  for (const error of fresh) ctx.store.reportedMeterErrors.add(error.identifier);
  const notifications: ThinEventNotification[] = [];
  const noMeter = fresh.filter((e) => e.code === "no_meter");
  if (noMeter.length > 0) {
    const { notification, event } = fullEvent(ctx, "v1.billing.meter.no_meter_found", noMeter, null);
    ctx.store.v2Events.set(notification.id, event);
    notifications.push(notification);
  }
  const byMeter = new Map<string, MeterEventError[]>();
  for (const error of fresh.filter((e) => e.code !== "no_meter")) {
    const meter = [...ctx.store.meters.values()].find((m) => m.event_name === error.eventName);
    const id = meter?.id ?? "mtr_unknown";
    byMeter.set(id, [...(byMeter.get(id) ?? []), error]);
  }
  for (const [meterId, errors] of byMeter) {
    const { notification, event } = fullEvent(
      ctx,
      "v1.billing.meter.error_report_triggered",
      errors,
      meterId,
    );
    ctx.store.v2Events.set(notification.id, event);
    notifications.push(notification);
  }
  return notifications;
}

/** `GET /v2/core/events/:id`. */
export const retrieveV2Event: ApiHandler = (ctx, { pathParams: [id = ""] }) => {
  const event = ctx.store.v2Events.get(id);
  if (!event) throw noSuchResource("event", id);
  return event;
};
