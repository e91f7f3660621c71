/**
 * Customer, product, price and meter objects, field for field as in Stripe's fixtures
 * (`test/fixtures/stripe/fixtures3.json`), with the values Stripe gives a fresh test-mode object.
 */
import { randomBytes } from "node:crypto";

export type Metadata = Record<string, string>;

export interface Customer {
  id: string;
  object: "customer";
  created: number;
  email: string | null;
  name: string | null;
  metadata: Metadata;
  [field: string]: unknown;
}

export function customerObject(init: {
  id: string;
  created: number;
  email?: string;
  name?: string;
  description?: string;
  phone?: string;
  metadata?: Metadata;
}): Customer {
  return {
    id: init.id,
    object: "customer",
    address: null,
    balance: 0,
    created: init.created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: init.description ?? null,
    discount: null,
    email: init.email ?? null,
    invoice_prefix: randomBytes(4).toString("hex").toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: init.metadata ?? {},
    name: init.name ?? null,
    next_invoice_sequence: 1,
    phone: init.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

export interface Product {
  id: string;
  object: "product";
  active: boolean;
  name: string;
  metadata: Metadata;
  updated: number;
  [field: string]: unknown;
}

export function productObject(init: {
  id: string;
  created: number;
  name: string;
  active?: boolean;
  description?: string;
  metadata?: Metadata;
  unitLabel?: string;
}): Product {
  return {
    id: init.id,
    object: "product",
    active: init.active ?? true,
    created: init.created,
    default_price: null,
    description: init.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: init.metadata ?? {},
    name: init.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: "service",
    unit_label: init.unitLabel ?? null,
    updated: init.created,
    url: null,
  };
}

export interface PriceRecurring {
  interval: "day" | "week" | "month" | "year";
  interval_count: number;
  meter: string | null;
  usage_type: "licensed" | "metered";
  trial_period_days: null;
}

export interface Price {
  id: string;
  object: "price";
  active: boolean;
  created: number;
  currency: string;
  livemode: false;
  lookup_key: string | null;
  metadata: Metadata;
  nickname: string | null;
  product: string;
  recurring: PriceRecurring | null;
  type: "recurring" | "one_time";
  unit_amount: number | null;
  unit_amount_decimal: string | null;
  [field: string]: unknown;
}

export function priceObject(init: {
  id: string;
  created: number;
  currency: string;
  product: string;
  unitAmountDecimal: string;
  recurring: PriceRecurring | null;
  lookupKey?: string;
  nickname?: string;
  metadata?: Metadata;
  active?: boolean;
}): Price {
  const whole = /^\d+$/.test(init.unitAmountDecimal) ? Number(init.unitAmountDecimal) : null;
  return {
    id: init.id,
    object: "price",
    active: init.active ?? true,
    billing_scheme: "per_unit",
    created: init.created,
    currency: init.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: init.lookupKey ?? null,
    metadata: init.metadata ?? {},
    nickname: init.nickname ?? null,
    product: init.product,
    recurring: init.recurring,
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: init.recurring ? "recurring" : "one_time",
    unit_amount: whole,
    unit_amount_decimal: init.unitAmountDecimal,
  };
}

/** The legacy `plan` view Stripe still embeds in subscription items, derived from the price. */
export function planFromPrice(price: Price) {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? null,
    interval_count: price.recurring?.interval_count ?? null,
    livemode: false,
    metadata: price.metadata,
    meter: price.recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: price.recurring?.usage_type ?? null,
  };
}

export interface Meter {
  id: string;
  object: "billing.meter";
  created: number;
  customer_mapping: { event_payload_key: string; type: "by_id" };
  default_aggregation: { formula: "sum" | "count" | "last" };
  display_name: string;
  event_name: string;
  status: "active" | "inactive";
  status_transitions: { deactivated_at: number | null };
  updated: number;
  value_settings: { event_payload_key: string };
  [field: string]: unknown;
}

export function meterObject(init: {
  id: string;
  created: number;
  displayName: string;
  eventName: string;
  formula: "sum" | "count" | "last";
  customerPayloadKey?: string;
  valuePayloadKey?: string;
  eventTimeWindow?: "day" | "hour";
}): Meter {
  return {
    id: init.id,
    object: "billing.meter",
    created: init.created,
    // Defaults documented on the meter: customer from `stripe_customer_id`, value from `value`.
    customer_mapping: { event_payload_key: init.customerPayloadKey ?? "stripe_customer_id", type: "by_id" },
    default_aggregation: { formula: init.formula },
    display_name: init.displayName,
    event_name: init.eventName,
    event_time_window: init.eventTimeWindow ?? null,
    livemode: false,
    status: "active",
    status_transitions: { deactivated_at: null },
    updated: init.created,
    value_settings: { event_payload_key: init.valuePayloadKey ?? "value" },
  };
}

export interface MeterEventObject {
  object: "billing.meter_event";
  created: number;
  event_name: string;
  identifier: string;
  livemode: false;
  payload: Record<string, string>;
  timestamp: number;
}
