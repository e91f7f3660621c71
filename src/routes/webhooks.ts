import { createRoute, z } from "@hono/zod-openapi";
import { applyStripeWebhook, EVENT_OUTCOMES } from "../billing/webhooks/apply-webhook";
import { HANDLED_EVENT_TYPES } from "../billing/webhooks/stripe-event";
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
  description: `Called by Stripe, authenticated by the \`Stripe-Signature\` header (STRIPE_WEBHOOK_SECRET, 5 min tolerance). Each event is applied exactly once; a redelivery answers 200 with \`duplicate: true\`. Acts on: ${HANDLED_EVENT_TYPES.join(", ")}; other types are recorded as ignored.`,
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

export const webhookRoutes = newRouter().openapi(stripeWebhookRoute, async (c) => {
  // The signature covers the exact bytes Stripe sent: read them as text, never re-serialised JSON.
  const receipt = await applyStripeWebhook(
    { ...c.get("services"), config: c.get("config"), requestId: c.get("requestId") },
    await c.req.text(),
    c.req.header("Stripe-Signature"),
  );
  return c.json(receipt satisfies z.infer<typeof receiptSchema>, 200);
});
