/**
 * `POST /v1/billing/meter_events`: the money path. Rules, with where they come from:
 * - `event_name` and `payload` required; `event_name` and `identifier` at most 100 characters
 *   (API reference: create a billing meter event).
 * - The payload carries the meter's `customer_mapping.event_payload_key` (default
 *   `stripe_customer_id`) and `value_settings.event_payload_key` (default `value`).
 * - "The numerical usage value in the payload only accepts whole number values"; negative totals
 *   invoice as 0, so negative whole numbers are accepted (record usage with the API).
 * - `timestamp` "within the past 35 calendar days" and "not more than 5 minutes in the future";
 *   defaults to now. The too-old message is the one integrations report from Stripe.
 * - `identifier` unique "within a rolling period of at least 24 hours"; Stripe refuses a repeat
 *   with 400 "An event already exists with identifier <id>." (observed by integrations, marked
 *   not retryable), so a repeat never counts twice.
 * - A value has at most 15 significant digits (`meter_event_value_too_many_digits` in Stripe's
 *   asynchronous error reports); see {@link MeterEventRules} for where the fake refuses it.
 * - One call in flight per customer and meter (live mode; a second gets 429 `rate_limit`): enforced
 *   by the server (server.ts), which holds each call for `meterEventLatencyMs`.
 * Unknown customers / event names: see {@link MeterEventRules} for what is synchronous here.
 */
import { invalidParam, missingParam, noSuchResource, StripeApiError } from "../errors";
import { newMeterEventIdentifier } from "../ids";
import type { MeterEventObject } from "../objects/catalog";
import { optionalInteger, optionalObject, optionalString, requiredString } from "../params";
import type { ApiHandler, FakeContext } from "../state";
import { activeMeterFor } from "./meters";

const DAY_SECONDS = 86_400;
const MAX_AGE_SECONDS = 35 * DAY_SECONDS;
const MAX_FUTURE_SECONDS = 5 * 60;
const MAX_VALUE_DIGITS = 15;

function checkTimestamp(timestamp: number, now: number): void {
  const earliest = now - MAX_AGE_SECONDS;
  const latest = now + MAX_FUTURE_SECONDS;
  if (timestamp < earliest) {
    throw invalidParam(
      "timestamp",
      `The event timestamp cannot be more than 35 days in past. Expected a timestamp greater than or equal to ${earliest}.`,
      "timestamp_too_far_in_past",
    );
  }
  if (timestamp > latest) {
    throw invalidParam(
      "timestamp",
      `The event timestamp cannot be more than 5 minutes in the future. Expected a timestamp less than or equal to ${latest}.`,
      "timestamp_in_future",
    );
  }
}

/** Drops identifiers older than the dedupe window (fake time), so they may be used again. */
function forgetExpiredIdentifiers(ctx: FakeContext): void {
  const cutoff = ctx.clock.nowMs() - ctx.rules.identifierWindowMs;
  for (const [identifier, acceptedAt] of ctx.store.meterEventIdentifiers) {
    if (acceptedAt <= cutoff) ctx.store.meterEventIdentifiers.delete(identifier);
  }
}

function stringPayload(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (typeof v !== "string")
      throw invalidParam(`payload[${k}]`, "Invalid payload: values must be strings.");
    out[k] = v;
  }
  return out;
}

export const createMeterEvent: ApiHandler = (ctx, { params }) => {
  const eventName = requiredString(params, "event_name");
  if (eventName.length > 100) throw invalidParam("event_name", "event_name can be at most 100 characters.");
  const payloadParam = optionalObject(params, "payload");
  if (!payloadParam) throw missingParam("payload");
  const payload = stringPayload(payloadParam);
  const identifier = optionalString(params, "identifier");
  if (identifier !== undefined && (identifier === "" || identifier.length > 100)) {
    throw invalidParam("identifier", "identifier must be between 1 and 100 characters.");
  }
  const now = ctx.clock.nowSeconds();
  const timestamp = optionalInteger(params, "timestamp") ?? now;

  const meter = activeMeterFor(ctx, eventName);
  if (!meter && ctx.rules.unknownEventName === "reject") {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `No active meter found for event name "${eventName}".`,
      {
        param: "event_name",
      },
    );
  }
  const customerKey = meter?.customer_mapping.event_payload_key ?? "stripe_customer_id";
  const valueKey = meter?.value_settings.event_payload_key ?? "value";
  const customer = payload[customerKey];
  if (!customer) throw missingParam(`payload[${customerKey}]`);
  const rawValue = payload[valueKey];
  if (rawValue === undefined || rawValue === "") throw missingParam(`payload[${valueKey}]`);
  if (!/^-?\d+$/.test(rawValue)) {
    throw invalidParam(
      `payload[${valueKey}]`,
      `Invalid value for payload[${valueKey}]: '${rawValue}'. Meter event values must be whole numbers.`,
      "parameter_invalid_integer",
    );
  }
  const tooManyDigits = rawValue.replace(/^-?0*/, "").length > MAX_VALUE_DIGITS;
  if (tooManyDigits && ctx.rules.valueTooManyDigits === "reject") {
    throw invalidParam(
      `payload[${valueKey}]`,
      `Invalid value for payload[${valueKey}]: '${rawValue}'. Meter event values can have at most ${MAX_VALUE_DIGITS} digits.`,
      "meter_event_value_too_many_digits",
    );
  }
  checkTimestamp(timestamp, now);

  forgetExpiredIdentifiers(ctx);
  if (identifier !== undefined && ctx.store.meterEventIdentifiers.has(identifier)) {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `An event already exists with identifier ${identifier}.`,
      {
        param: "identifier",
        headers: { "Stripe-Should-Retry": "false" },
      },
    );
  }
  const customerExists = ctx.store.customers.has(customer);
  if (!customerExists && ctx.rules.unknownCustomer === "reject") {
    throw noSuchResource("customer", customer, `payload[${customerKey}]`, 400);
  }

  const accepted: MeterEventObject = {
    object: "billing.meter_event",
    created: now,
    event_name: eventName,
    identifier: identifier ?? newMeterEventIdentifier(),
    livemode: false,
    payload,
    timestamp,
  };
  ctx.store.meterEventIdentifiers.set(accepted.identifier, ctx.clock.nowMs());
  const value = Number(rawValue);
  const asyncError = !meter
    ? { code: "no_meter" as const, message: `No meter was found matching event_name ${eventName}.` }
    : !customerExists
      ? { code: "meter_event_customer_not_found" as const, message: `No customer found with id ${customer}.` }
      : tooManyDigits
        ? {
            code: "meter_event_value_too_many_digits" as const,
            message: `Value ${rawValue} has more than ${MAX_VALUE_DIGITS} digits.`,
          }
        : undefined;
  if (asyncError) {
    // Stripe answers 200 and drops the event while processing it; it is never billed.
    ctx.store.meterEventErrors.push({
      ...asyncError,
      identifier: accepted.identifier,
      eventName,
      customer,
      value,
      at: now,
    });
  } else {
    ctx.store.meterEvents.push({
      identifier: accepted.identifier,
      eventName,
      meter: meter?.id ?? null,
      customer,
      value,
      timestamp,
      created: now,
      payload,
    });
  }
  return accepted;
};
