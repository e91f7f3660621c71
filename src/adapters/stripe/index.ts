import type Stripe from "stripe";

export interface StripeOptions {
  secretKey: string;
  /** Base URL of a Stripe-compatible server (the local fake); real Stripe when absent. */
  apiBase?: string;
  timeoutMs: number;
}

/** One usage report to a Stripe billing meter. */
export interface MeterEvent {
  eventName: string;
  stripeCustomerId: string;
  /** Whole units; Stripe rejects fractions. */
  value: number;
  /** Deterministic, so a retried report is deduplicated by Stripe. */
  identifier: string;
  /** Unix seconds; Stripe accepts up to 35 days old and 5 minutes ahead. */
  timestamp: number;
}

/** A thin event notification (v2 event destinations): only what names the event to fetch. */
export interface ThinEventNotification {
  id: string;
  type: string;
}

/** One meter event summary: the units Stripe aggregated for a customer in [startTime, endTime). */
export interface MeterEventSummary {
  startTime: number;
  endTime: number;
  aggregatedValue: number;
}

/** A price as self-serve checkout needs it. */
export interface BillingPrice {
  id: string;
  /** Metered prices take no quantity in Checkout; licensed ones take 1. */
  metered: boolean;
  /** Price of one unit in the currency's smallest unit (cents), as Stripe's decimal string; null when not per unit. */
  unitAmountDecimal: string | null;
  currency: string;
}

export interface CheckoutSessionInput {
  price: BillingPrice;
  /** Our account id: Checkout's `client_reference_id`, and metadata on the session and subscription. */
  accountId: string;
  tier: string;
  /** The account's Stripe customer, when it has one; else Checkout creates one for `email`. */
  customer: string | null;
  email: string;
  successUrl: string;
  cancelUrl: string;
}

/** What the Worker needs from Stripe. */
export interface StripeAdapter {
  reportMeterEvent(event: MeterEvent): Promise<void>;
  /**
   * Verifies a webhook's `Stripe-Signature` over the raw body (HMAC-SHA256 through SubtleCrypto,
   * 300 s tolerance) and returns the event. Throws on a bad, missing or too old signature.
   */
  constructWebhookEvent(rawBody: string, signature: string, secret: string): Promise<Stripe.Event>;
  /**
   * Verifies a thin event notification (a v2 event destination) the same way and returns what
   * names the event; the event itself is fetched with `retrieveThinEvent`.
   */
  parseThinEventNotification(
    rawBody: string,
    signature: string,
    secret: string,
  ): Promise<ThinEventNotification>;
  /** The full v2 event of a notification (`GET /v2/core/events/:id`), unparsed. */
  retrieveThinEvent(id: string): Promise<unknown>;
  /** The id of the active meter with this event name, or undefined. */
  findMeterId(eventName: string): Promise<string | undefined>;
  /**
   * Stripe's meter event summaries of one customer over [startTime, endTime) (unix seconds,
   * minute-aligned), one per `window` (or one for the range), every page read. Eventually
   * consistent: Stripe aggregates meter events asynchronously.
   */
  listMeterEventSummaries(input: {
    meterId: string;
    customer: string;
    startTime: number;
    endTime: number;
    window?: "hour" | "day";
  }): Promise<MeterEventSummary[]>;
  /** The active price with this lookup key, or undefined. */
  findPriceByLookupKey(lookupKey: string): Promise<BillingPrice | undefined>;
  /** A hosted Checkout session in subscription mode; returns its id and URL. */
  createCheckoutSession(input: CheckoutSessionInput): Promise<{ id: string; url: string }>;
  /** A Customer Portal session; returns its URL. */
  createPortalSession(input: { customer: string; returnUrl: string }): Promise<{ url: string }>;
}

/** The `t=` of a `Stripe-Signature` header (unix seconds), if it has a well-formed one. */
export function signatureTimestamp(header: string): number | undefined {
  const item = header.split(",").find((part) => part.trim().startsWith("t="));
  const seconds = item ? Number(item.trim().slice(2)) : Number.NaN;
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}

/**
 * The Stripe adapter, with the SDK (about a seventh of the bundle) imported on first use: the
 * validate path never calls Stripe, so an isolate that only validates never evaluates the SDK.
 * The SDK-backed implementation is ./sdk.ts.
 */
export function createStripeAdapter(options: StripeOptions): StripeAdapter {
  let loading: Promise<StripeAdapter> | undefined;
  const sdk = (): Promise<StripeAdapter> => {
    loading ??= import("./sdk").then(
      (module) => module.createStripeSdkAdapter(options),
      (error: unknown) => {
        loading = undefined; // a failed import is retried by the next call
        throw error;
      },
    );
    return loading;
  };
  return {
    reportMeterEvent: async (event) => (await sdk()).reportMeterEvent(event),
    constructWebhookEvent: async (rawBody, signature, secret) =>
      (await sdk()).constructWebhookEvent(rawBody, signature, secret),
    parseThinEventNotification: async (rawBody, signature, secret) =>
      (await sdk()).parseThinEventNotification(rawBody, signature, secret),
    retrieveThinEvent: async (id) => (await sdk()).retrieveThinEvent(id),
    findMeterId: async (eventName) => (await sdk()).findMeterId(eventName),
    listMeterEventSummaries: async (input) => (await sdk()).listMeterEventSummaries(input),
    findPriceByLookupKey: async (lookupKey) => (await sdk()).findPriceByLookupKey(lookupKey),
    createCheckoutSession: async (input) => (await sdk()).createCheckoutSession(input),
    createPortalSession: async (input) => (await sdk()).createPortalSession(input),
  };
}

/** A Stripe that is never reachable: every call rejects. For tests that need no Stripe. */
export function createUnreachableStripeAdapter(): StripeAdapter {
  const unreachable = async (): Promise<never> => {
    throw new Error("stripe unreachable");
  };
  return {
    reportMeterEvent: unreachable,
    constructWebhookEvent: unreachable,
    parseThinEventNotification: unreachable,
    retrieveThinEvent: unreachable,
    findMeterId: unreachable,
    listMeterEventSummaries: unreachable,
    findPriceByLookupKey: unreachable,
    createCheckoutSession: unreachable,
    createPortalSession: unreachable,
  };
}
