/**
 * `/v1/checkout/sessions` in subscription mode, and the completion a customer would perform on
 * Stripe's hosted page (a test hook here): it creates the customer if needed, the subscription and
 * its first invoice, then emits `customer.created`, `customer.subscription.created`, `invoice.paid`
 * and `checkout.session.completed` (Stripe does not guarantee their order either).
 */
import { invalidParam, missingParam, noSuchResource, StripeApiError } from "../errors";
import type { FormObject } from "../form";
import { newId } from "../ids";
import {
  type CheckoutLineItem,
  type CheckoutSession,
  checkoutSessionObject,
  upfrontAmount,
} from "../objects/billing";
import type { Customer, Price } from "../objects/catalog";
import {
  metadataParam,
  optionalArray,
  optionalInteger,
  optionalObject,
  optionalString,
  requiredString,
} from "../params";
import type { ApiHandler, CheckoutSessionRecord, FakeContext } from "../state";
import { createCustomer, requireCustomer } from "./customers";
import { startSubscription } from "./subscriptions";

const DAY_SECONDS = 86_400;

function lineItemsParam(
  ctx: FakeContext,
  params: FormObject,
): Array<CheckoutLineItem & { priceObject: Price }> {
  const raw = optionalArray(params, "line_items");
  if (!raw || raw.length === 0) throw missingParam("line_items");
  return raw.map((entry, index) => {
    const param = `line_items[${index}]`;
    if (typeof entry !== "object" || Array.isArray(entry)) throw invalidParam(param, `Invalid ${param}.`);
    const priceId = requiredString(entry, "price", `${param}[price]`);
    const price = ctx.store.prices.get(priceId);
    if (!price) throw noSuchResource("price", priceId, `${param}[price]`, 400);
    if (!price.active) throw invalidParam(`${param}[price]`, `The price \`${priceId}\` is not active.`);
    if (!price.recurring) {
      throw invalidParam(`${param}[price]`, "In `subscription` mode, line items need recurring prices.");
    }
    const quantity = optionalInteger(entry, "quantity", `${param}[quantity]`);
    const metered = price.recurring.usage_type === "metered";
    // Usage is reported by meters, so a metered line takes no quantity; a licensed one needs it.
    if (metered && quantity !== undefined) {
      throw invalidParam(
        `${param}[quantity]`,
        "Quantity should not be specified where usage_type is `metered`.",
      );
    }
    if (!metered && quantity === undefined) throw missingParam(`${param}[quantity]`);
    return { price: priceId, quantity: quantity ?? null, priceObject: price };
  });
}

export const createCheckoutSession: ApiHandler = (ctx, { params }) => {
  const mode = requiredString(params, "mode");
  if (mode !== "subscription") {
    throw invalidParam("mode", `The fake Stripe only implements mode=subscription (got ${mode}).`);
  }
  const lines = lineItemsParam(ctx, params);
  const currencies = new Set(lines.map((line) => line.priceObject.currency));
  if (currencies.size > 1) throw invalidParam("line_items", "All prices must share one currency.");
  const customer = optionalString(params, "customer");
  const customerEmail = optionalString(params, "customer_email");
  if (customer && customerEmail) {
    throw invalidParam(
      "customer_email",
      "You may only specify one of these parameters: customer, customer_email.",
    );
  }
  if (customer) requireCustomer(ctx, customer, "customer", 400);
  const clientReferenceId = optionalString(params, "client_reference_id");
  if (clientReferenceId && clientReferenceId.length > 200) {
    throw invalidParam("client_reference_id", "client_reference_id can be at most 200 characters.");
  }
  const now = ctx.clock.nowSeconds();
  // Sessions expire after 24 hours unless `expires_at` asks for 30 minutes to 24 hours.
  const expiresAt = optionalInteger(params, "expires_at") ?? now + DAY_SECONDS;
  if (expiresAt < now + 1800 || expiresAt > now + DAY_SECONDS) {
    throw invalidParam("expires_at", "expires_at must be between 30 minutes and 24 hours from now.");
  }
  const id = newId("cs_test_a1", 56);
  const session = checkoutSessionObject({
    id,
    created: now,
    expiresAt,
    url: `${ctx.baseUrl()}/checkout/pay/${id}`,
    successUrl: optionalString(params, "success_url") ?? null,
    cancelUrl: optionalString(params, "cancel_url") ?? null,
    customer: customer ?? null,
    customerEmail: customerEmail ?? null,
    clientReferenceId: clientReferenceId ?? null,
    metadata: metadataParam(params),
    currency: [...currencies][0] ?? "usd",
    amountTotal: upfrontAmount(lines.map((line) => ({ price: line.priceObject, quantity: line.quantity }))),
  });
  const subscriptionData = optionalObject(params, "subscription_data") ?? {};
  ctx.store.checkoutSessions.set(id, {
    session,
    lineItems: lines.map(({ price, quantity }) => ({ price, quantity })),
    subscriptionMetadata: metadataParam(subscriptionData),
  });
  return session;
};

function requireSessionRecord(ctx: FakeContext, id: string): CheckoutSessionRecord {
  const record = ctx.store.checkoutSessions.get(id);
  if (!record) throw noSuchResource("checkout.session", id);
  return record;
}

export const retrieveCheckoutSession: ApiHandler = (ctx, { pathParams: [id = ""] }) =>
  requireSessionRecord(ctx, id).session;

export const expireCheckoutSession: ApiHandler = (ctx, { pathParams: [id = ""], request }) => {
  const { session } = requireSessionRecord(ctx, id);
  if (session.status !== "open") {
    throw new StripeApiError(400, "invalid_request_error", `Only open Checkout Sessions can be expired.`);
  }
  session.status = "expired";
  session.url = null;
  ctx.emit("checkout.session.expired", session, { request });
  return session;
};

function sessionCustomer(ctx: FakeContext, session: CheckoutSession, email?: string): Customer {
  if (session.customer) return requireCustomer(ctx, session.customer);
  const params: FormObject = {};
  const address = session.customer_email ?? email;
  if (address) params.email = address;
  return createCustomer(ctx, {
    params,
    pathParams: [],
    request: { id: null, idempotency_key: null },
  }) as Customer;
}

/** What the customer does on the hosted page: pay, and leave with a subscription. */
export function completeCheckoutSession(ctx: FakeContext, id: string, options: { email?: string } = {}) {
  const record = requireSessionRecord(ctx, id);
  const { session } = record;
  if (session.status === "open" && ctx.clock.nowSeconds() >= session.expires_at) {
    session.status = "expired";
    session.url = null;
    ctx.emit("checkout.session.expired", session);
  }
  if (session.status !== "open") {
    throw new StripeApiError(400, "invalid_request_error", `This Checkout Session is ${session.status}.`);
  }
  const customer = sessionCustomer(ctx, session, options.email);
  const lines = record.lineItems.map((line) => ({
    price: ctx.store.prices.get(line.price) as Price,
    quantity: line.quantity,
  }));
  const { subscription, invoice } = startSubscription(ctx, {
    customer: customer.id,
    lines,
    metadata: record.subscriptionMetadata,
  });
  ctx.emit("customer.subscription.created", subscription);
  ctx.emit("invoice.paid", invoice);
  Object.assign(session, {
    status: "complete",
    // Metered usage is billed in arrears: nothing is due now unless a licensed item costs money.
    payment_status: invoice.amount_due > 0 ? "paid" : "no_payment_required",
    customer: customer.id,
    subscription: subscription.id,
    invoice: invoice.id,
    url: null,
    customer_details: {
      address: null,
      business_name: null,
      email: customer.email,
      individual_name: null,
      name: customer.name,
      phone: null,
      tax_exempt: "none",
      tax_ids: [],
    },
    collected_information: { business_name: null, individual_name: null, shipping_details: null },
  });
  ctx.emit("checkout.session.completed", session);
  return { session, subscription, invoice, customer };
}
