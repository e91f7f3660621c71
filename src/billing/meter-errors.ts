/**
 * Stripe's asynchronous meter errors (issue 17, item 5). Stripe answers 200 to a meter event and
 * validates it afterwards; what it drops (unknown customer, no meter for the event name, too many
 * digits, timestamp out of range...) is reported in `v1.billing.meter.error_report_triggered`
 * (per meter) and `v1.billing.meter.no_meter_found` events. Those are v2 *thin* events: the event
 * destination receives a signed notification naming the event, and the full event is fetched by
 * id (`GET /v2/core/events/:id`). Its `data.reason.error_types[].sample_errors[].request.identifier`
 * is the meter event identifier, which is our batch id (`_p<n>` for the parts of a split batch).
 *
 * Each report is recorded exactly once (`record_meter_error_report`, migrations/0016) and every
 * batch its samples name is dead-lettered with Stripe's reason: those units were never billed, so
 * the ledger now says so, and the reconciliation counts them. Stripe lists *sample* errors: errors
 * beyond the samples cannot be mapped to a batch; they show as `errors` above `batches` in the
 * reconciliation, and the comparison with Stripe's meter event summaries finds their units.
 */
import { z } from "zod";
import type { StripeAdapter } from "../adapters/stripe";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import { describeError, log } from "../lib/log";
import { Refusal } from "../refusal";
import { signatureRefused } from "./webhooks/apply-webhook";

/** The event types this receiver acts on; any other thin event is acknowledged and ignored. */
export const METER_ERROR_EVENT_TYPES = [
  "v1.billing.meter.error_report_triggered",
  "v1.billing.meter.no_meter_found",
] as const;

const sampleSchema = z.object({
  error_message: z.string().nullish(),
  request: z.object({ identifier: z.string().min(1).max(255) }),
});

/** The fields of the full v2 event this reads (stripe-node's V1BillingMeterErrorReportTriggeredEvent). */
export const meterErrorEventSchema = z.object({
  id: z.string().regex(/^evt_/).max(255),
  type: z.enum(METER_ERROR_EVENT_TYPES),
  related_object: z.object({ id: z.string() }).nullish(),
  data: z.object({
    developer_message_summary: z.string().nullish(),
    validation_start: z.string().nullish(),
    validation_end: z.string().nullish(),
    reason: z.object({
      error_count: z.number().int().min(0),
      error_types: z.array(
        z.object({
          code: z.string().max(100),
          error_count: z.number().int().min(0),
          sample_errors: z.array(sampleSchema),
        }),
      ),
    }),
  }),
});

/** What `record_meter_error_report` takes. */
export interface MeterErrorReport {
  id: string;
  type: string;
  meter: string | null;
  summary: string | null;
  error_count: number;
  validation_start: string | null;
  validation_end: string | null;
  samples: { identifier: string; code: string; message: string | null }[];
}

/** The report of a fetched event; throws (zod) when it is not one. Pure. */
export function meterErrorReportOf(event: unknown): MeterErrorReport {
  const parsed = meterErrorEventSchema.parse(event);
  return {
    id: parsed.id,
    type: parsed.type,
    meter: parsed.related_object?.id ?? null,
    summary: parsed.data.developer_message_summary ?? null,
    error_count: parsed.data.reason.error_count,
    validation_start: parsed.data.validation_start ?? null,
    validation_end: parsed.data.validation_end ?? null,
    samples: parsed.data.reason.error_types.flatMap((type) =>
      type.sample_errors.map((sample) => ({
        identifier: sample.request.identifier,
        code: type.code,
        message: sample.error_message ?? null,
      })),
    ),
  };
}

const recordedSchema = z.object({
  duplicate: z.boolean(),
  samples: z.number().int(),
  batches_dead: z.number().int(),
  unmatched: z.number().int(),
});

export interface ThinEventReceipt {
  received: true;
  id: string;
  type: string;
  outcome: "recorded" | "duplicate" | "ignored";
  /** Batches dead-lettered because of this report. */
  batches_dead: number;
  /** Sampled identifiers that name no batch of ours. */
  unmatched: number;
}

export interface ThinEventDeps {
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  config: Config;
  requestId: string;
}

/**
 * POST /webhooks/stripe/thin-events: verifies the notification (STRIPE_EVENT_DESTINATION_SECRET,
 * else STRIPE_WEBHOOK_SECRET), fetches the event and records it. A fetch failure answers 503 and a
 * database failure 500, so Stripe retries; a redelivery is a no-op (`duplicate`).
 */
export async function receiveThinEvent(
  deps: ThinEventDeps,
  rawBody: string,
  signature: string | undefined,
): Promise<ThinEventReceipt> {
  const secret = deps.config.STRIPE_EVENT_DESTINATION_SECRET ?? deps.config.STRIPE_WEBHOOK_SECRET;
  if (!secret) {
    throw new Refusal("SERVICE_MISCONFIGURED", "Stripe event destinations are not configured.", {
      cause: new Error("neither STRIPE_EVENT_DESTINATION_SECRET nor STRIPE_WEBHOOK_SECRET is set"),
    });
  }
  if (!signature) throw signatureRefused();
  let notification: { id: string; type: string };
  try {
    notification = await deps.stripe.parseThinEventNotification(rawBody, signature, secret);
  } catch (error) {
    log("warn", "stripe thin event refused", { request_id: deps.requestId, reason: describeError(error) });
    throw signatureRefused();
  }
  const ignored = { received: true as const, ...notification, batches_dead: 0, unmatched: 0 };
  if (!(METER_ERROR_EVENT_TYPES as readonly string[]).includes(notification.type)) {
    return { ...ignored, outcome: "ignored" };
  }
  let event: unknown;
  try {
    event = await deps.stripe.retrieveThinEvent(notification.id);
  } catch (error) {
    throw new Refusal(
      "DEPENDENCY_UNAVAILABLE",
      "The event could not be fetched from Stripe; deliver it again.",
      {
        cause: error,
      },
    );
  }
  const report = meterErrorReportOf(event);
  const recorded = recordedSchema.parse(
    await deps.db.rpc<unknown>("record_meter_error_report", { p_report: report }),
  );
  log(recorded.duplicate ? "info" : "error", "stripe meter error report", {
    request_id: deps.requestId,
    event_id: report.id,
    event_type: report.type,
    meter: report.meter ?? undefined,
    error_count: report.error_count,
    samples: recorded.samples,
    batches_dead: recorded.batches_dead,
    unmatched: recorded.unmatched,
    duplicate: recorded.duplicate,
    codes: [...new Set(report.samples.map((s) => s.code))].join(","),
  });
  return {
    ...ignored,
    outcome: recorded.duplicate ? "duplicate" : "recorded",
    batches_dead: recorded.batches_dead,
    unmatched: recorded.unmatched,
  };
}
