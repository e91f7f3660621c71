/** `/v1/billing/meters`: create, retrieve, list, update (display name only), deactivate, reactivate. */
import { invalidParam, noSuchResource, StripeApiError } from "../errors";
import { newId } from "../ids";
import { listResponse } from "../list";
import { type Meter, meterObject } from "../objects/catalog";
import { oneOf, optionalObject, optionalString, requiredString } from "../params";
import type { ApiHandler, FakeContext } from "../state";

function requireMeter(ctx: FakeContext, id: string): Meter {
  const meter = ctx.store.meters.get(id);
  if (!meter) throw noSuchResource("billing meter", id);
  return meter;
}

/** The active meter that ingests `eventName`, if any (an event name belongs to a single meter). */
export function activeMeterFor(ctx: FakeContext, eventName: string): Meter | undefined {
  return [...ctx.store.meters.values()].find((m) => m.status === "active" && m.event_name === eventName);
}

export const createMeter: ApiHandler = (ctx, { params, request }) => {
  const displayName = requiredString(params, "display_name");
  const eventName = requiredString(params, "event_name");
  if (eventName.length > 100) throw invalidParam("event_name", "event_name can be at most 100 characters.");
  const aggregation = optionalObject(params, "default_aggregation");
  const formula = oneOf(
    requiredString(aggregation ?? {}, "formula", "default_aggregation[formula]"),
    ["sum", "count", "last"] as const,
    "default_aggregation[formula]",
  );
  const mapping = optionalObject(params, "customer_mapping");
  if (mapping) {
    oneOf(
      requiredString(mapping, "type", "customer_mapping[type]"),
      ["by_id"] as const,
      "customer_mapping[type]",
    );
  }
  const valueSettings = optionalObject(params, "value_settings");
  const window = optionalString(params, "event_time_window");
  // "You can only use an event name with a single meter" (Stripe: configuring meters).
  if (activeMeterFor(ctx, eventName)) {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `An active meter with event_name '${eventName}' already exists.`,
      { param: "event_name" },
    );
  }
  const meter = meterObject({
    id: newId("mtr_test_"),
    created: ctx.clock.nowSeconds(),
    displayName,
    eventName,
    formula,
    customerPayloadKey: mapping
      ? requiredString(mapping, "event_payload_key", "customer_mapping[event_payload_key]")
      : undefined,
    valuePayloadKey: valueSettings
      ? requiredString(valueSettings, "event_payload_key", "value_settings[event_payload_key]")
      : undefined,
    eventTimeWindow: window ? oneOf(window, ["day", "hour"] as const, "event_time_window") : undefined,
  });
  ctx.store.meters.set(meter.id, meter);
  ctx.emit("billing.meter.created", meter, { request });
  return meter;
};

export const retrieveMeter: ApiHandler = (ctx, { pathParams: [id = ""] }) => requireMeter(ctx, id);

export const listMeters: ApiHandler = (ctx, { params }) => {
  const status = optionalString(params, "status");
  const rows = [...ctx.store.meters.values()].filter((m) => status === undefined || m.status === status);
  return listResponse("/v1/billing/meters", rows, params);
};

/** "Meters are immutable, with the exception of the display name" (Stripe: record usage). */
export const updateMeter: ApiHandler = (ctx, { params, pathParams: [id = ""], request }) => {
  const meter = requireMeter(ctx, id);
  for (const key of Object.keys(params)) {
    if (key !== "display_name" && key !== "expand") {
      throw invalidParam(key, `Received unknown parameter: ${key}`, "parameter_unknown");
    }
  }
  const displayName = optionalString(params, "display_name");
  const previous = { display_name: meter.display_name };
  if (displayName) meter.display_name = displayName;
  meter.updated = ctx.clock.nowSeconds();
  ctx.emit("billing.meter.updated", meter, { previousAttributes: previous, request });
  return meter;
};

export const deactivateMeter: ApiHandler = (ctx, { pathParams: [id = ""], request }) => {
  const meter = requireMeter(ctx, id);
  meter.status = "inactive";
  meter.status_transitions = { deactivated_at: ctx.clock.nowSeconds() };
  meter.updated = ctx.clock.nowSeconds();
  ctx.emit("billing.meter.deactivated", meter, { request });
  return meter;
};

export const reactivateMeter: ApiHandler = (ctx, { pathParams: [id = ""], request }) => {
  const meter = requireMeter(ctx, id);
  if (activeMeterFor(ctx, meter.event_name)) {
    throw new StripeApiError(400, "invalid_request_error", "Another active meter uses this event_name.");
  }
  meter.status = "active";
  meter.updated = ctx.clock.nowSeconds();
  ctx.emit("billing.meter.reactivated", meter, { request });
  return meter;
};
