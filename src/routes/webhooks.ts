import { Hono } from "hono";
import { z } from "zod";
import type { AppBindings } from "../env";
import { problemSchema, type RouteDoc } from "../openapi/registry";
import { applyStripeWebhook, EVENT_OUTCOMES } from "../webhooks";
import { HANDLED_EVENT_TYPES } from "../webhooks/stripe-event";

const receiptSchema = z.object({
  received: z.literal(true),
  id: z.string(),
  type: z.string(),
  outcome: z.enum(EVENT_OUTCOMES),
  duplicate: z.boolean().describe("True when this event id was already applied: nothing changed"),
});

export const webhookRoutes = new Hono<AppBindings>().post("/webhooks/stripe", async (c) => {
  // The signature covers the exact bytes Stripe sent: read them as text, never re-serialised JSON.
  const receipt = await applyStripeWebhook(
    { ...c.get("services"), config: c.get("config"), requestId: c.get("requestId") },
    await c.req.text(),
    c.req.header("Stripe-Signature"),
  );
  return c.json(receipt satisfies z.infer<typeof receiptSchema>);
});

export const webhookDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/webhooks/stripe",
    summary: "Stripe webhook endpoint",
    description: `Called by Stripe, authenticated by the \`Stripe-Signature\` header (STRIPE_WEBHOOK_SECRET, 5 min tolerance). Each event is applied exactly once; a redelivery answers 200 with \`duplicate: true\`. Acts on: ${HANDLED_EVENT_TYPES.join(", ")}; other types are recorded as ignored.`,
    tags: ["Billing"],
    responses: {
      200: {
        description: "Event recorded (applied, stale, unmatched, ignored or conflict)",
        schema: receiptSchema,
      },
      400: {
        description: "WEBHOOK_SIGNATURE_INVALID: missing, wrong or too old signature",
        schema: problemSchema,
      },
      500: { description: "INTERNAL: the database failed; Stripe retries", schema: problemSchema },
      503: {
        description:
          "DEPENDENCY_UNAVAILABLE (Redis; the event is recorded, redelivery re-applies it) or SERVICE_MISCONFIGURED",
        schema: problemSchema,
      },
    },
  },
];
