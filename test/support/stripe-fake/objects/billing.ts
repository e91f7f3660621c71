/**
 * Checkout session, subscription, subscription item, invoice and portal session objects, with the
 * fields of Stripe's fixtures. Since API 2025-03-31.basil the billing period lives on subscription
 * items (`current_period_start/end`), so the fake does the same.
 */
import { type Metadata, type Price, planFromPrice } from "./catalog";

export interface CheckoutLineItem {
  price: string;
  quantity: number | null;
}

export interface CheckoutSession {
  id: string;
  object: "checkout.session";
  client_reference_id: string | null;
  created: number;
  customer: string | null;
  customer_email: string | null;
  expires_at: number;
  metadata: Metadata;
  mode: "subscription";
  payment_status: "unpaid" | "paid" | "no_payment_required";
  status: "open" | "complete" | "expired";
  subscription: string | null;
  success_url: string | null;
  url: string | null;
  [field: string]: unknown;
}

export function checkoutSessionObject(init: {
  id: string;
  created: number;
  expiresAt: number;
  url: string;
  successUrl: string | null;
  cancelUrl: string | null;
  customer: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  metadata: Metadata;
  currency: string;
  amountTotal: number;
}): CheckoutSession {
  return {
    id: init.id,
    object: "checkout.session",
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: init.amountTotal,
    amount_total: init.amountTotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: init.cancelUrl,
    client_reference_id: init.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: init.created,
    currency: init.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: init.customer,
    customer_account: null,
    customer_creation: null,
    customer_details: null,
    customer_email: init.customerEmail,
    discounts: [],
    expires_at: init.expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: { enabled: false },
    metadata: init.metadata,
    mode: "subscription",
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: "unpaid",
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: {
      allow_redisplay_filters: ["always"],
      payment_method_remove: "disabled",
      payment_method_save: null,
    },
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: init.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: init.url,
    wallet_options: null,
  };
}

export interface SubscriptionItem {
  id: string;
  object: "subscription_item";
  created: number;
  current_period_end: number;
  current_period_start: number;
  price: Price;
  quantity: number | null;
  subscription: string;
  [field: string]: unknown;
}

export function subscriptionItemObject(init: {
  id: string;
  created: number;
  subscription: string;
  price: Price;
  quantity: number | null;
  periodStart: number;
  periodEnd: number;
}): SubscriptionItem {
  return {
    id: init.id,
    object: "subscription_item",
    billing_thresholds: null,
    created: init.created,
    current_period_end: init.periodEnd,
    current_period_start: init.periodStart,
    discounts: [],
    metadata: {},
    plan: planFromPrice(init.price),
    price: init.price,
    quantity: init.quantity,
    subscription: init.subscription,
    tax_rates: [],
  };
}

export type SubscriptionStatus = "active" | "past_due" | "unpaid" | "canceled" | "incomplete" | "trialing";

export interface Subscription {
  id: string;
  object: "subscription";
  cancel_at: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  cancellation_details: { comment: string | null; feedback: string | null; reason: string | null };
  created: number;
  customer: string;
  ended_at: number | null;
  items: { object: "list"; data: SubscriptionItem[]; has_more: false; url: string };
  latest_invoice: string | null;
  metadata: Metadata;
  status: SubscriptionStatus;
  [field: string]: unknown;
}

export function subscriptionObject(init: {
  id: string;
  created: number;
  customer: string;
  currency: string;
  items: SubscriptionItem[];
  metadata: Metadata;
}): Subscription {
  return {
    id: init.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: init.created,
    billing_cycle_anchor_config: null,
    billing_mode: { type: "classic", flexible: null },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: "charge_automatically",
    created: init.created,
    currency: init.currency,
    customer: init.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
    items: {
      object: "list",
      data: init.items,
      has_more: false,
      url: `/v1/subscription_items?subscription=${init.id}`,
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: { enabled: false },
    metadata: init.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: init.created,
    status: "active",
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: null,
  };
}

/** Licensed items bill up front; metered items bill in arrears, so they add nothing to a first invoice. */
export function upfrontAmount(items: Array<{ price: Price; quantity: number | null }>): number {
  return items.reduce((sum, { price, quantity }) => {
    if (price.recurring?.usage_type === "metered") return sum;
    return sum + (price.unit_amount ?? 0) * (quantity ?? 1);
  }, 0);
}

export function portalSessionObject(init: {
  id: string;
  created: number;
  customer: string;
  returnUrl: string | null;
  url: string;
  configuration: string;
}) {
  return {
    id: init.id,
    object: "billing_portal.session",
    configuration: init.configuration,
    created: init.created,
    customer: init.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: init.returnUrl,
    url: init.url,
  };
}

/** One billing interval later, in UTC calendar terms (a month from Jan 31 clamps to Feb 28/29, as Stripe does). */
export function addInterval(
  seconds: number,
  interval: "day" | "week" | "month" | "year",
  count: number,
): number {
  const date = new Date(seconds * 1000);
  if (interval === "day") return seconds + 86_400 * count;
  if (interval === "week") return seconds + 7 * 86_400 * count;
  const months = interval === "month" ? count : 12 * count;
  const day = date.getUTCDate();
  const target = new Date(date);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}
