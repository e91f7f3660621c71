/** The fake's in-memory account: every object it has created, plus what handlers need to act. */
import type { FakeClock } from "./clock";
import type { FormObject } from "./form";
import type { CheckoutLineItem, CheckoutSession, Subscription } from "./objects/billing";
import type { Customer, Meter, Price, Product } from "./objects/catalog";
import type { EventRequest, StripeEvent, WebhookEndpoint } from "./objects/events";
import type { Invoice } from "./objects/invoice";

/** A meter event Stripe accepted and will bill. */
export interface MeterEvent {
  identifier: string;
  eventName: string;
  meter: string | null;
  customer: string;
  value: number;
  /** Unix seconds: when the usage happened. */
  timestamp: number;
  /** Unix seconds: when the fake accepted it. */
  created: number;
  payload: Record<string, string>;
}

/**
 * A meter event answered 200 but dropped during Stripe's asynchronous processing (reported by Stripe
 * through `v1.billing.meter.error_report_triggered` / `no_meter_found`); only in "report-async" modes.
 */
export interface MeterEventError {
  code: "meter_event_customer_not_found" | "no_meter" | "meter_event_value_too_many_digits";
  message: string;
  identifier: string;
  eventName: string;
  customer: string;
  value: number;
  at: number;
}

export interface MeterEventRules {
  /**
   * An `event_name` no active meter uses: "reject" answers 400 (default; what integrations report
   * seeing from the v1 endpoint), "report-async" answers 200 and drops it as a `no_meter` error.
   */
  unknownEventName: "reject" | "report-async";
  /**
   * A `payload[stripe_customer_id]` that is no customer: "reject" answers 400 resource_missing
   * (default, what our flusher treats as permanent), "report-async" answers 200 and drops it as
   * `meter_event_customer_not_found`, which is what Stripe documents (validated asynchronously).
   */
  unknownCustomer: "reject" | "report-async";
  /** How long an accepted identifier blocks a duplicate: Stripe promises at least 24 hours. */
  identifierWindowMs: number;
  /**
   * A meter event call for a customer and meter while another call for the same pair is still in
   * flight: "reject" (default) answers 429 `rate_limit`, as Stripe's live mode does (its meter
   * events endpoint allows one concurrent call per customer per meter); "allow" processes both.
   */
  concurrentCustomerCalls: "reject" | "allow";
  /** How long the fake takes to answer a meter event call (ms, default 5): its in-flight window. */
  meterEventLatencyMs: number;
  /**
   * A value of more than 15 digits: "reject" (default) answers 400, "report-async" answers 200 and
   * drops it as `meter_event_value_too_many_digits` (the code Stripe's error reports use).
   */
  valueTooManyDigits: "reject" | "report-async";
  /**
   * How long after acceptance an event shows in meter event summaries (ms, default 0): Stripe
   * aggregates asynchronously, so summaries are eventually consistent.
   */
  summaryLagMs: number;
}

export interface CheckoutSessionRecord {
  session: CheckoutSession;
  lineItems: CheckoutLineItem[];
  subscriptionMetadata: Record<string, string>;
}

export interface Store {
  customers: Map<string, Customer>;
  deletedCustomers: Set<string>;
  products: Map<string, Product>;
  prices: Map<string, Price>;
  meters: Map<string, Meter>;
  meterEvents: MeterEvent[];
  meterEventErrors: MeterEventError[];
  /** identifier → fake ms at first acceptance. */
  meterEventIdentifiers: Map<string, number>;
  /** `event_name|customer` pairs with a meter event call in flight. */
  meterEventsInFlight: Set<string>;
  /** Errors already sent in an error report (thin event), by identifier. */
  reportedMeterErrors: Set<string>;
  /** v2 events (`v2.core.event`), by id: what `GET /v2/core/events/:id` answers. */
  v2Events: Map<string, Record<string, unknown>>;
  checkoutSessions: Map<string, CheckoutSessionRecord>;
  subscriptions: Map<string, Subscription>;
  invoices: Map<string, Invoice>;
  portalSessions: Map<string, Record<string, unknown>>;
  events: Map<string, StripeEvent>;
  webhookEndpoints: Map<string, WebhookEndpoint>;
}

export function createStore(): Store {
  return {
    customers: new Map(),
    deletedCustomers: new Set(),
    products: new Map(),
    prices: new Map(),
    meters: new Map(),
    meterEvents: [],
    meterEventErrors: [],
    meterEventIdentifiers: new Map(),
    meterEventsInFlight: new Set(),
    reportedMeterErrors: new Set(),
    v2Events: new Map(),
    checkoutSessions: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    portalSessions: new Map(),
    events: new Map(),
    webhookEndpoints: new Map(),
  };
}

export interface EmitOptions {
  previousAttributes?: object;
  request?: EventRequest;
}

/** What every handler gets: the account, the clock, the rules, and a way to raise events. */
export interface FakeContext {
  store: Store;
  clock: FakeClock;
  rules: MeterEventRules;
  apiVersion: string;
  /** Base URL of the running fake, for the `url` fields it hands out (checkout, portal). */
  baseUrl(): string;
  /** Records an event (and schedules its webhook deliveries). */
  emit(type: string, object: object, options?: EmitOptions): StripeEvent;
}

/** One API call as a handler sees it. */
export interface ApiCall {
  params: FormObject;
  /** Captures from the route pattern, e.g. the id in `/v1/customers/:id`. */
  pathParams: string[];
  /** The request as events record it (`event.request`). */
  request: EventRequest;
}

export type ApiHandler = (ctx: FakeContext, call: ApiCall) => unknown;
