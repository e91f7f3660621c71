import { createRoute, z } from "@hono/zod-openapi";
import { createCheckoutLink, createPortalLink } from "../billing/checkout";
import { jsonBody, requireJson } from "../lib/json-body";
import { admitUsage } from "../middleware/admission";
import { countRefusedRequest } from "../middleware/admission/refused-request";
import { requireCredential } from "../middleware/auth";
import { idempotencyHeaders, idempotencyInUse } from "../openapi/idempotency-headers";
import {
  API_KEY_OR_TOKEN,
  bearerRefusals,
  dependencyUnavailable,
  jsonRequest,
  jsonResponse,
  problemResponse,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

const checkoutBody = z.object({ tier: z.string().min(1).max(32) });
const checkoutResponse = z.object({
  url: z.string().describe("Stripe Checkout page; send the customer there"),
  session_id: z.string(),
  tier: z.string(),
});
const portalResponse = z.object({ url: z.string().describe("Stripe Customer Portal page") });

const authErrors = {
  ...bearerRefusals,
  ...dependencyUnavailable("Also when Stripe is; SERVICE_MISCONFIGURED when billing is not set up"),
};

const checkoutRoute = createRoute({
  method: "post",
  path: "/v1/billing/checkout",
  summary: "Start a subscription: a Stripe Checkout URL for a tier",
  description:
    "The tier changes once Stripe confirms payment (webhook), usually within seconds of checkout; tokens already issued see the new limits on their next request. Send an Idempotency-Key to retry safely: a retry within 24 h gets the same Checkout session (`Idempotent-Replayed: true`), not a second one.",
  tags: ["Billing"],
  security: API_KEY_OR_TOKEN,
  // The body is checked before admission, so a malformed request is not counted; rate limited, not billed.
  middleware: [
    requireCredential(),
    countRefusedRequest(),
    requireJson,
    jsonBody(checkoutBody),
    admitUsage({ units: 0, idempotent: true }),
  ] as const,
  request: { headers: idempotencyHeaders, body: jsonRequest(checkoutBody, { tier: "pro" }) },
  responses: {
    200: jsonResponse("Checkout session created", checkoutResponse, {
      example: {
        url: "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4",
        session_id: "cs_test_a1B2c3D4",
        tier: "pro",
      },
    }),
    400: problemResponse("Body is not `{tier}`"),
    415: problemResponse("UNSUPPORTED_MEDIA_TYPE: the body is not sent as JSON"),
    409: idempotencyInUse,
    422: problemResponse(
      "BILLING_TIER_UNAVAILABLE: the tier cannot be bought; IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used for another request",
    ),
    ...authErrors,
  },
});

const portalRoute = createRoute({
  method: "post",
  path: "/v1/billing/portal",
  summary: "Manage the subscription: a Stripe Customer Portal URL",
  tags: ["Billing"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0 })] as const,
  responses: {
    200: jsonResponse("Portal session created", portalResponse, {
      example: { url: "https://billing.stripe.com/p/session/test_YWNjdF8x" },
    }),
    409: problemResponse("BILLING_NO_CUSTOMER: no checkout completed yet"),
    ...authErrors,
  },
});

export const billingRoutes = newRouter()
  .openapi(checkoutRoute, async (c) => {
    const body: z.infer<typeof checkoutResponse> = await createCheckoutLink(
      { ...c.get("services"), config: c.get("config") },
      { accountId: c.get("auth").sub, tier: c.req.valid("json").tier },
    );
    return c.json(body, 200, { "Cache-Control": "no-store" });
  })
  .openapi(portalRoute, async (c) => {
    const body: z.infer<typeof portalResponse> = await createPortalLink(
      { ...c.get("services"), config: c.get("config") },
      { accountId: c.get("auth").sub },
    );
    return c.json(body, 200, { "Cache-Control": "no-store" });
  });
