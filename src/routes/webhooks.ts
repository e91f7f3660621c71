import { createRoute, z } from "@hono/zod-openapi";
import { sendDunningNotices } from "../billing/dunning-run";
import { METER_ERROR_EVENT_TYPES, receiveThinEvent } from "../billing/meter-errors";
import { applyStripeWebhook, EVENT_OUTCOMES } from "../billing/webhooks/apply-webhook";
import { HANDLED_EVENT_TYPES } from "../billing/webhooks/stripe-event";
import { afterResponse } from "../lib/after-response";
import { dependencyUnavailable, jsonResponse, problemResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";

const receiptSchema = z.object({
  received: z.literal(true),
  id: z.string(),
  type: z.string(),
  outcome: z.enum(EVENT_OUTCOMES),
  duplicate: z.boolean().describe("True when this event id was already applied: nothing changed"),
});

const stripeWebhookRoute = createRoute({
  method: "post",
  path: "/webhooks/stripe",
  summary: "Stripe webhook endpoint",
  description: `Called by Stripe, authenticated by the \`Stripe-Signature\` header (STRIPE_WEBHOOK_SECRET, 5 min tolerance). Each event is applied exactly once; a redelivery answers 200 with \`duplicate: true\`. Acts on: ${HANDLED_EVENT_TYPES.join(", ")}; other types are recorded as ignored. A failed payment that leaves the account past due, and the paid invoice that restores it, queue a dunning e-mail in the same transaction; it is sent after the answer (never delaying it) and retried by the cron run.`,
  tags: ["Operations"],
  responses: {
    200: jsonResponse("Event recorded (applied, stale, unmatched, ignored or conflict)", receiptSchema, {
      example: {
        received: true,
        id: "evt_1Q2w3E4r5T6y7U8i",
        type: "invoice.paid",
        outcome: "applied",
        duplicate: false,
      },
    }),
    400: problemResponse("WEBHOOK_SIGNATURE_INVALID: missing, wrong or too old signature"),
    500: problemResponse("INTERNAL: the database refused the event; Stripe retries"),
    ...dependencyUnavailable(
      "Stripe delivers it again; when only Redis failed the event is recorded and the redelivery re-applies it. SERVICE_MISCONFIGURED without a webhook secret",
    ),
  },
});

const thinReceiptSchema = z.object({
  received: z.literal(true),
  id: z.string(),
  type: z.string(),
  outcome: z
    .enum(["recorded", "duplicate", "ignored"])
    .describe("duplicate: this event id was already recorded; ignored: a type this service does not act on"),
  batches_dead: z.number().int().describe("Usage batches dead-lettered with Stripe's reason"),
  unmatched: z.number().int().describe("Sampled meter event identifiers that name no batch of this service"),
});

const thinEventRoute = createRoute({
  method: "post",
  path: "/webhooks/stripe/thin-events",
  summary: "Stripe event destination (thin events)",
  description: `Called by a Stripe event destination with thin payloads, authenticated by \`Stripe-Signature\` (STRIPE_EVENT_DESTINATION_SECRET, else STRIPE_WEBHOOK_SECRET; 5 min tolerance). The event is fetched from Stripe by id and recorded once. Acts on: ${METER_ERROR_EVENT_TYPES.join(", ")}: the usage batches whose meter event Stripe rejected after accepting it are dead-lettered with Stripe's reason.`,
  tags: ["Operations"],
  responses: {
    200: jsonResponse("Event recorded, a duplicate, or ignored", thinReceiptSchema, {
      example: {
        received: true,
        id: "evt_test_65R9Ijk8d9ghJMtsrT7BMUYYZQ2DSQ",
        type: "v1.billing.meter.error_report_triggered",
        outcome: "recorded",
        batches_dead: 1,
        unmatched: 0,
      },
    }),
    400: problemResponse("WEBHOOK_SIGNATURE_INVALID: missing, wrong or too old signature"),
    500: problemResponse("INTERNAL: the database refused the report; Stripe retries"),
    ...dependencyUnavailable(
      "the event could not be fetched from Stripe; Stripe delivers it again. SERVICE_MISCONFIGURED without a signing secret",
    ),
  },
});

export const webhookRoutes = newRouter()
  .openapi(thinEventRoute, async (c) => {
    const receipt = await receiveThinEvent(
      { ...c.get("services"), config: c.get("config"), requestId: c.get("requestId") },
      await c.req.text(),
      c.req.header("Stripe-Signature"),
    );
    return c.json(receipt satisfies z.infer<typeof thinReceiptSchema>, 200);
  })
  .openapi(stripeWebhookRoute, async (c) => {
    const services = c.get("services");
    const config = c.get("config");
    // The signature covers the exact bytes Stripe sent: read them as text, never re-serialised JSON.
    const receipt = await applyStripeWebhook(
      {
        ...services,
        config,
        requestId: c.get("requestId"),
        // A dunning e-mail is sent after the commit, never before Stripe has its answer.
        onNoticeRecorded: () =>
          void afterResponse(c, sendDunningNotices({ db: services.db, email: services.email, config })),
      },
      await c.req.text(),
      c.req.header("Stripe-Signature"),
    );
    return c.json(receipt satisfies z.infer<typeof receiptSchema>, 200);
  });
