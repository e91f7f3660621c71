import { Hono } from "hono";
import { z } from "zod";
import { createCheckoutLink, createPortalLink } from "../billing-portal";
import type { AppBindings } from "../env";
import { jsonBody, requireJson } from "../lib/json-body";
import { admitUsage } from "../middleware/admission";
import { requireToken } from "../middleware/auth";
import { bearerRefusals, problemSchema, type RouteDoc } from "../openapi/registry";

const checkoutBody = z.object({ tier: z.string().min(1).max(32) });
const checkoutResponse = z.object({
  url: z.string().describe("Stripe Checkout page; send the customer there"),
  session_id: z.string(),
  tier: z.string(),
});
const portalResponse = z.object({ url: z.string().describe("Stripe Customer Portal page") });

function claimsOf(auth: AppBindings["Variables"]["auth"]) {
  if (!auth) throw new Error("billing route mounted without requireToken");
  return auth;
}

export const billingRoutes = new Hono<AppBindings>()
  .post(
    "/v1/billing/checkout",
    requireToken(),
    requireJson,
    jsonBody(checkoutBody),
    // Rate limited like every protected route, but not billed.
    admitUsage({ units: 0 }),
    async (c) => {
      const body: z.infer<typeof checkoutResponse> = await createCheckoutLink(
        { ...c.get("services"), config: c.get("config") },
        {
          accountId: claimsOf(c.get("auth")).sub,
          tier: c.req.valid("json").tier,
          origin: new URL(c.req.url).origin,
        },
      );
      return c.json(body, 200, { "Cache-Control": "no-store" });
    },
  )
  .post("/v1/billing/portal", requireToken(), admitUsage({ units: 0 }), async (c) => {
    const body: z.infer<typeof portalResponse> = await createPortalLink(
      { ...c.get("services"), config: c.get("config") },
      { accountId: claimsOf(c.get("auth")).sub, origin: new URL(c.req.url).origin },
    );
    return c.json(body, 200, { "Cache-Control": "no-store" });
  });

const authErrors = {
  ...bearerRefusals,
  503: { description: "DEPENDENCY_UNAVAILABLE (Stripe) or SERVICE_MISCONFIGURED", schema: problemSchema },
};

export const billingDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/v1/billing/checkout",
    summary: "Start a subscription: a Stripe Checkout URL for a tier",
    description:
      "The tier changes once Stripe confirms payment (webhook), usually within seconds of checkout; tokens already issued see the new limits on their next request.",
    tags: ["Billing"],
    security: ["bearerToken"],
    requestBody: { schema: checkoutBody, example: { tier: "pro" } },
    responses: {
      200: { description: "Checkout session created", schema: checkoutResponse },
      400: { description: "Body is not `{tier}`", schema: problemSchema },
      422: { description: "BILLING_TIER_UNAVAILABLE: the tier cannot be bought", schema: problemSchema },
      ...authErrors,
    },
  },
  {
    method: "post",
    path: "/v1/billing/portal",
    summary: "Manage the subscription: a Stripe Customer Portal URL",
    tags: ["Billing"],
    security: ["bearerToken"],
    responses: {
      200: { description: "Portal session created", schema: portalResponse },
      409: { description: "BILLING_NO_CUSTOMER: no checkout completed yet", schema: problemSchema },
      ...authErrors,
    },
  },
];
