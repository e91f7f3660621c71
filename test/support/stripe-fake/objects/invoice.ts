/**
 * Invoice objects for subscriptions, with the fixtures' fields. Since 2025-03-31.basil an invoice
 * names its subscription under `parent.subscription_details`, not a top-level `subscription`.
 */

import { type Subscription, upfrontAmount } from "./billing";
import type { Metadata } from "./catalog";

export interface Invoice {
  id: string;
  object: "invoice";
  amount_due: number;
  amount_paid: number;
  customer: string;
  parent: {
    type: "subscription_details";
    quote_details: null;
    subscription_details: { subscription: string; metadata: Metadata };
  };
  status: "draft" | "open" | "paid";
  [field: string]: unknown;
}

export function invoiceObject(init: {
  id: string;
  created: number;
  customer: { id: string; email: string | null; name: string | null };
  subscription: Subscription;
  billingReason: "subscription_create" | "subscription_cycle";
  paid: boolean;
  periodStart: number;
  periodEnd: number;
  number: string;
}): Invoice {
  const { subscription } = init;
  const total = upfrontAmount(subscription.items.data);
  const lines = subscription.items.data.map((item, index) => ({
    id: `il_${init.id.slice(3)}${index}`,
    object: "line_item",
    amount:
      item.price.recurring?.usage_type === "metered"
        ? 0
        : (item.price.unit_amount ?? 0) * (item.quantity ?? 1),
    currency: item.price.currency,
    description: null,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: init.id,
    livemode: false,
    metadata: {},
    parent: {
      type: "subscription_item_details",
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        proration_details: { credited_items: null },
        subscription: subscription.id,
        subscription_item: item.id,
      },
    },
    period: { end: item.current_period_end, start: item.current_period_start },
    pretax_credit_amounts: [],
    pricing: { type: "price_details", price_details: { price: item.price.id, product: item.price.product } },
    quantity: item.quantity,
    subtotal: 0,
    taxes: [],
  }));
  const paidAt = init.paid ? init.created : null;
  return {
    id: init.id,
    object: "invoice",
    account_country: "US",
    account_name: "Fake Stripe account",
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: init.paid ? total : 0,
    amount_remaining: init.paid ? 0 : total,
    amount_shipping: 0,
    application: null,
    attempt_count: 1,
    attempted: true,
    auto_advance: !init.paid,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: init.billingReason,
    collection_method: "charge_automatically",
    created: init.created,
    currency: subscription.currency,
    custom_fields: null,
    customer: init.customer.id,
    customer_account: null,
    customer_address: null,
    customer_email: init.customer.email,
    customer_name: init.customer.name,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: init.created,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${init.id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: init.paid ? null : init.created + 3 * 86_400,
    number: init.number,
    on_behalf_of: null,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata: subscription.metadata, subscription: subscription.id },
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: init.periodEnd,
    period_start: init.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: init.paid ? "paid" : "open",
    status_transitions: {
      finalized_at: init.created,
      marked_uncollectible_at: null,
      paid_at: paidAt,
      voided_at: null,
    },
    // Removed from the API in 2025-03-31.basil (see `parent`); the fixtures keep the key as null.
    subscription: null,
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: init.created,
  };
}
