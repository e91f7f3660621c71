/** The Stripe API surface the fake serves (`/v1/...`, secret-key auth) and its test hooks. */

import { optionalBoolean, optionalString } from "./params";
import { createPortalSession } from "./resources/billing-portal";
import {
  createPrice,
  createProduct,
  listPrices,
  listProducts,
  retrievePrice,
  retrieveProduct,
  updatePrice,
  updateProduct,
} from "./resources/catalog";
import {
  completeCheckoutSession,
  createCheckoutSession,
  expireCheckoutSession,
  retrieveCheckoutSession,
} from "./resources/checkout";
import {
  createCustomer,
  deleteCustomer,
  listCustomers,
  retrieveCustomer,
  updateCustomer,
} from "./resources/customers";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listEvents,
  listWebhookEndpoints,
  retrieveEvent,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from "./resources/events";
import { retrieveV2Event } from "./resources/meter-error-reports";
import { listMeterEventSummaries } from "./resources/meter-event-summaries";
import { createMeterEvent } from "./resources/meter-events";
import {
  createMeter,
  deactivateMeter,
  listMeters,
  reactivateMeter,
  retrieveMeter,
  updateMeter,
} from "./resources/meters";
import {
  cancelSubscription,
  listSubscriptions,
  renewSubscription,
  retrieveSubscription,
  updateSubscription,
} from "./resources/subscriptions";
import type { ApiHandler } from "./state";

export interface Route {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  handler: ApiHandler;
}

function route(method: Route["method"], path: string, handler: ApiHandler): Route {
  return { method, pattern: new RegExp(`^${path.replace(/:\w+/g, "([^/]+)")}$`), handler };
}

/** Served under the secret key, with idempotency, as on api.stripe.com. */
export const apiRoutes: Route[] = [
  route("POST", "/v1/billing/meter_events", createMeterEvent),
  route("POST", "/v1/billing/meters", createMeter),
  route("GET", "/v1/billing/meters", listMeters),
  route("GET", "/v1/billing/meters/:id", retrieveMeter),
  route("GET", "/v1/billing/meters/:id/event_summaries", listMeterEventSummaries),
  route("POST", "/v1/billing/meters/:id", updateMeter),
  route("POST", "/v1/billing/meters/:id/deactivate", deactivateMeter),
  route("POST", "/v1/billing/meters/:id/reactivate", reactivateMeter),
  route("POST", "/v1/products", createProduct),
  route("GET", "/v1/products", listProducts),
  route("GET", "/v1/products/:id", retrieveProduct),
  route("POST", "/v1/products/:id", updateProduct),
  route("POST", "/v1/prices", createPrice),
  route("GET", "/v1/prices", listPrices),
  route("GET", "/v1/prices/:id", retrievePrice),
  route("POST", "/v1/prices/:id", updatePrice),
  route("POST", "/v1/customers", createCustomer),
  route("GET", "/v1/customers", listCustomers),
  route("GET", "/v1/customers/:id", retrieveCustomer),
  route("POST", "/v1/customers/:id", updateCustomer),
  route("DELETE", "/v1/customers/:id", deleteCustomer),
  route("POST", "/v1/checkout/sessions", createCheckoutSession),
  route("GET", "/v1/checkout/sessions/:id", retrieveCheckoutSession),
  route("POST", "/v1/checkout/sessions/:id/expire", expireCheckoutSession),
  route("GET", "/v1/subscriptions", listSubscriptions),
  route("GET", "/v1/subscriptions/:id", retrieveSubscription),
  route("POST", "/v1/subscriptions/:id", updateSubscription),
  route("DELETE", "/v1/subscriptions/:id", cancelSubscription),
  route("POST", "/v1/billing_portal/sessions", createPortalSession),
  route("GET", "/v1/events", listEvents),
  route("GET", "/v1/events/:id", retrieveEvent),
  route("POST", "/v1/webhook_endpoints", createWebhookEndpoint),
  route("GET", "/v1/webhook_endpoints", listWebhookEndpoints),
  route("GET", "/v1/webhook_endpoints/:id", retrieveWebhookEndpoint),
  route("POST", "/v1/webhook_endpoints/:id", updateWebhookEndpoint),
  route("DELETE", "/v1/webhook_endpoints/:id", deleteWebhookEndpoint),
  route("GET", "/v2/core/events/:id", retrieveV2Event),
];

/**
 * Test hooks for what happens outside the API on Stripe (a customer paying on the hosted page, a
 * renewal at period end). No key needed: a browser or test performs them.
 */
export const testHookRoutes: Route[] = [
  route("POST", "/test/checkout/:id/complete", (ctx, { params, pathParams: [id = ""] }) => {
    return completeCheckoutSession(ctx, id, { email: optionalString(params, "email") }).session;
  }),
  route("POST", "/test/subscriptions/:id/renew", (ctx, { params, pathParams: [id = ""] }) => {
    return renewSubscription(ctx, id, optionalBoolean(params, "paid") ?? true).subscription;
  }),
];

export function matchRoute(routes: Route[], method: string, path: string) {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match) return { route: candidate, pathParams: match.slice(1).map(decodeURIComponent) };
  }
  return undefined;
}
