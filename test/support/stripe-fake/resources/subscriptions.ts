/**
 * Subscriptions and their invoices: created by a completed checkout, read and changed through
 * `/v1/subscriptions/:id`, cancelled now (`DELETE`) or at period end, renewed by a test helper.
 */
import { invalidParam, noSuchResource, StripeApiError } from "../errors";
import type { FormObject } from "../form";
import { newId } from "../ids";
import { listResponse } from "../list";
import {
  addInterval,
  type Subscription,
  type SubscriptionItem,
  subscriptionItemObject,
  subscriptionObject,
} from "../objects/billing";
import type { Price } from "../objects/catalog";
import type { EventRequest } from "../objects/events";
import { type Invoice, invoiceObject } from "../objects/invoice";
import {
  mergeMetadata,
  metadataParam,
  optionalArray,
  optionalBoolean,
  optionalInteger,
  optionalString,
} from "../params";
import type { ApiHandler, FakeContext } from "../state";

export function requireSubscription(ctx: FakeContext, id: string): Subscription {
  const subscription = ctx.store.subscriptions.get(id);
  if (!subscription) throw noSuchResource("subscription", id);
  return subscription;
}

function newItem(subscriptionId: string, price: Price, quantity: number | null, start: number) {
  const recurring = price.recurring ?? { interval: "month" as const, interval_count: 1 };
  return subscriptionItemObject({
    id: newId("si_", 14),
    created: start,
    subscription: subscriptionId,
    price,
    quantity,
    periodStart: start,
    periodEnd: addInterval(start, recurring.interval, recurring.interval_count),
  });
}

function periodEnd(subscription: Subscription): number {
  return Math.max(...subscription.items.data.map((item) => item.current_period_end));
}

/** Issues the invoice for the current period; paid invoices include $0 ones (metered-only plans). */
export function issueInvoice(
  ctx: FakeContext,
  subscription: Subscription,
  billingReason: "subscription_create" | "subscription_cycle",
  paid: boolean,
): Invoice {
  const customer = ctx.store.customers.get(subscription.customer);
  const first = subscription.items.data[0];
  const invoice = invoiceObject({
    id: newId("in_"),
    created: ctx.clock.nowSeconds(),
    customer: { id: subscription.customer, email: customer?.email ?? null, name: customer?.name ?? null },
    subscription,
    billingReason,
    paid,
    periodStart: first?.current_period_start ?? subscription.created,
    periodEnd: first?.current_period_end ?? subscription.created,
    number: `FAKE-${String(ctx.store.invoices.size + 1).padStart(4, "0")}`,
  });
  ctx.store.invoices.set(invoice.id, invoice);
  subscription.latest_invoice = invoice.id;
  return invoice;
}

/** A new active subscription for `customer` on `lines`, billed up front for licensed items. */
export function startSubscription(
  ctx: FakeContext,
  init: {
    customer: string;
    lines: Array<{ price: Price; quantity: number | null }>;
    metadata: Record<string, string>;
  },
): { subscription: Subscription; invoice: Invoice } {
  const now = ctx.clock.nowSeconds();
  const id = newId("sub_");
  const items = init.lines.map((line) => newItem(id, line.price, line.quantity, now));
  const subscription = subscriptionObject({
    id,
    created: now,
    customer: init.customer,
    currency: init.lines[0]?.price.currency ?? "usd",
    items,
    metadata: init.metadata,
  });
  ctx.store.subscriptions.set(id, subscription);
  const invoice = issueInvoice(ctx, subscription, "subscription_create", true);
  return { subscription, invoice };
}

export const retrieveSubscription: ApiHandler = (ctx, { pathParams: [id = ""] }) =>
  requireSubscription(ctx, id);

/** By default Stripe lists subscriptions that are not canceled; `status=all` lists every one. */
export const listSubscriptions: ApiHandler = (ctx, { params }) => {
  const customer = optionalString(params, "customer");
  const status = optionalString(params, "status");
  const price = optionalString(params, "price");
  const rows = [...ctx.store.subscriptions.values()].filter(
    (s) =>
      (customer === undefined || s.customer === customer) &&
      (status === "all" || (status === undefined ? s.status !== "canceled" : s.status === status)) &&
      (price === undefined || s.items.data.some((item) => item.price.id === price)),
  );
  return listResponse("/v1/subscriptions", rows, params);
};

function applyItemChanges(ctx: FakeContext, subscription: Subscription, changes: FormObject[]): void {
  const start = subscription.items.data[0]?.current_period_start ?? ctx.clock.nowSeconds();
  changes.forEach((change, index) => {
    const param = `items[${index}]`;
    const itemId = optionalString(change, "id", `${param}[id]`);
    const priceId = optionalString(change, "price", `${param}[price]`);
    const quantity = optionalInteger(change, "quantity", `${param}[quantity]`) ?? null;
    const price = priceId ? ctx.store.prices.get(priceId) : undefined;
    if (priceId && !price) throw noSuchResource("price", priceId, `${param}[price]`, 400);
    const items = subscription.items.data;
    if (!itemId) {
      if (!price) throw invalidParam(`${param}[price]`, `Missing required param: ${param}[price].`);
      items.push(newItem(subscription.id, price, quantity, start));
      return;
    }
    const at = items.findIndex((item) => item.id === itemId);
    const item = items[at];
    if (!item) throw noSuchResource("subscription item", itemId, `${param}[id]`, 400);
    if (optionalBoolean(change, "deleted")) {
      items.splice(at, 1);
      return;
    }
    if (price) {
      items[at] = {
        ...newItem(subscription.id, price, quantity ?? item.quantity, item.current_period_start),
        id: item.id,
        current_period_end: item.current_period_end,
      } satisfies SubscriptionItem;
    } else if (quantity !== null) {
      item.quantity = quantity;
    }
  });
}

export const updateSubscription: ApiHandler = (ctx, { params, pathParams: [id = ""], request }) => {
  const subscription = requireSubscription(ctx, id);
  if (subscription.status === "canceled") {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      "A canceled subscription can only update its cancellation_details and metadata.",
    );
  }
  const previous: Record<string, unknown> = {};
  const cancelAtPeriodEnd = optionalBoolean(params, "cancel_at_period_end");
  if (cancelAtPeriodEnd !== undefined && cancelAtPeriodEnd !== subscription.cancel_at_period_end) {
    Object.assign(previous, {
      cancel_at_period_end: subscription.cancel_at_period_end,
      cancel_at: subscription.cancel_at,
      canceled_at: subscription.canceled_at,
      cancellation_details: subscription.cancellation_details,
    });
    subscription.cancel_at_period_end = cancelAtPeriodEnd;
    subscription.cancel_at = cancelAtPeriodEnd ? periodEnd(subscription) : null;
    subscription.canceled_at = cancelAtPeriodEnd ? ctx.clock.nowSeconds() : null;
    subscription.cancellation_details = {
      comment: null,
      feedback: null,
      reason: cancelAtPeriodEnd ? "cancellation_requested" : null,
    };
  }
  const items = optionalArray(params, "items");
  if (items) {
    previous.items = structuredClone(subscription.items);
    applyItemChanges(ctx, subscription, items as FormObject[]);
  }
  if (params.metadata !== undefined) {
    previous.metadata = subscription.metadata;
    subscription.metadata = mergeMetadata(subscription.metadata, metadataParam(params));
  }
  ctx.emit("customer.subscription.updated", subscription, { previousAttributes: previous, request });
  return subscription;
};

/** Ends a subscription now and tells listeners with `customer.subscription.deleted`. */
export function endSubscription(
  ctx: FakeContext,
  subscription: Subscription,
  request?: EventRequest,
  at?: number,
) {
  const now = at ?? ctx.clock.nowSeconds();
  subscription.status = "canceled";
  subscription.ended_at = now;
  subscription.canceled_at = subscription.canceled_at ?? now;
  subscription.cancellation_details = {
    ...subscription.cancellation_details,
    reason: "cancellation_requested",
  };
  ctx.emit("customer.subscription.deleted", subscription, { request });
}

export const cancelSubscription: ApiHandler = (ctx, { pathParams: [id = ""], request }) => {
  const subscription = requireSubscription(ctx, id);
  if (subscription.status === "canceled") {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `The subscription ${id} has already been canceled.`,
    );
  }
  endSubscription(ctx, subscription, request);
  return subscription;
};

/**
 * Moves a subscription into its next period with a new invoice: paid keeps (or makes) it active;
 * unpaid makes it `past_due` and raises `invoice.payment_failed`, as a failed renewal does.
 */
export function renewSubscription(ctx: FakeContext, id: string, paid: boolean) {
  const subscription = requireSubscription(ctx, id);
  if (subscription.status === "canceled") {
    throw new StripeApiError(400, "invalid_request_error", `The subscription ${id} has been canceled.`);
  }
  const previous = { items: structuredClone(subscription.items), status: subscription.status };
  for (const item of subscription.items.data) {
    const recurring = item.price.recurring ?? { interval: "month" as const, interval_count: 1 };
    item.current_period_start = item.current_period_end;
    item.current_period_end = addInterval(
      item.current_period_end,
      recurring.interval,
      recurring.interval_count,
    );
  }
  subscription.status = paid ? "active" : "past_due";
  const invoice = issueInvoice(ctx, subscription, "subscription_cycle", paid);
  ctx.emit(paid ? "invoice.paid" : "invoice.payment_failed", invoice);
  ctx.emit("customer.subscription.updated", subscription, { previousAttributes: previous });
  return { subscription, invoice };
}

/** Subscriptions set to cancel at period end stop once the fake clock passes `cancel_at`. */
export function endDueSubscriptions(ctx: FakeContext): void {
  const now = ctx.clock.nowSeconds();
  for (const subscription of ctx.store.subscriptions.values()) {
    if (
      subscription.status !== "canceled" &&
      subscription.cancel_at !== null &&
      subscription.cancel_at <= now
    ) {
      endSubscription(ctx, subscription, undefined, subscription.cancel_at);
    }
  }
}
