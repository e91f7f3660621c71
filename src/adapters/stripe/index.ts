import Stripe from "stripe";

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

/** Webhook signatures are HMAC-SHA256; Workers have no Node crypto, so SubtleCrypto does it. */
const webhookCrypto = Stripe.createSubtleCryptoProvider();
/** Stripe's default: a signature older than 5 minutes is refused (replay protection). */
const WEBHOOK_TOLERANCE_SECONDS = 300;

/** What the Worker needs from Stripe. */
export interface StripeAdapter {
  readonly client: Stripe;
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

/** The Stripe SDK on the fetch client (Workers have no Node http), with a timeout and no hidden retries. */
export function createStripeClient({ secretKey, apiBase, timeoutMs }: StripeOptions): Stripe {
  const base = apiBase ? new URL(apiBase) : undefined;
  return new Stripe(secretKey, {
    httpClient: Stripe.createFetchHttpClient(),
    timeout: timeoutMs,
    // Retries belong to the caller (the flusher retries on its next run with the same identifier).
    maxNetworkRetries: 0,
    telemetry: false,
    ...(base && {
      host: base.hostname,
      port: base.port || (base.protocol === "https:" ? 443 : 80),
      protocol: base.protocol === "https:" ? "https" : "http",
    }),
  });
}

/** The `t=` of a `Stripe-Signature` header (unix seconds), if it has a well-formed one. */
export function signatureTimestamp(header: string): number | undefined {
  const item = header.split(",").find((part) => part.trim().startsWith("t="));
  const seconds = item ? Number(item.trim().slice(2)) : Number.NaN;
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}

export function createStripeAdapter(options: StripeOptions): StripeAdapter {
  const client = createStripeClient(options);
  return {
    client,
    constructWebhookEvent(rawBody, signature, secret) {
      // The SDK refuses old timestamps only; one far in the future would make a captured
      // delivery replayable for as long, so both directions get the same tolerance.
      const signedAt = signatureTimestamp(signature);
      if (signedAt !== undefined && signedAt > Date.now() / 1000 + WEBHOOK_TOLERANCE_SECONDS) {
        return Promise.reject(new Error("webhook timestamp is in the future beyond the tolerance"));
      }
      return client.webhooks.constructEventAsync(
        rawBody,
        signature,
        secret,
        WEBHOOK_TOLERANCE_SECONDS,
        webhookCrypto,
      );
    },
    async parseThinEventNotification(rawBody, signature, secret) {
      const signedAt = signatureTimestamp(signature);
      if (signedAt !== undefined && signedAt > Date.now() / 1000 + WEBHOOK_TOLERANCE_SECONDS) {
        throw new Error("webhook timestamp is in the future beyond the tolerance");
      }
      const notification = await client.parseEventNotificationAsync(
        rawBody,
        signature,
        secret,
        WEBHOOK_TOLERANCE_SECONDS,
        webhookCrypto,
      );
      return { id: notification.id, type: notification.type };
    },
    async retrieveThinEvent(id) {
      return await client.v2.core.events.retrieve(id);
    },
    async findMeterId(eventName) {
      for await (const meter of client.billing.meters.list({ status: "active", limit: 100 })) {
        if (meter.event_name === eventName) return meter.id;
      }
      return undefined;
    },
    async listMeterEventSummaries({ meterId, customer, startTime, endTime, window }) {
      const summaries: MeterEventSummary[] = [];
      const pages = client.billing.meters.listEventSummaries(meterId, {
        customer,
        start_time: startTime,
        end_time: endTime,
        ...(window && { value_grouping_window: window }),
        limit: 100,
      });
      for await (const summary of pages) {
        summaries.push({
          startTime: summary.start_time,
          endTime: summary.end_time,
          aggregatedValue: Number(summary.aggregated_value),
        });
      }
      return summaries;
    },
    async findPriceByLookupKey(lookupKey) {
      const prices = await client.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 });
      const price = prices.data[0];
      return (
        price && {
          id: price.id,
          metered: price.recurring?.usage_type === "metered",
          unitAmountDecimal: price.unit_amount_decimal == null ? null : String(price.unit_amount_decimal),
          currency: price.currency,
        }
      );
    },
    async createCheckoutSession({ price, accountId, tier, customer, email, successUrl, cancelUrl }) {
      const metadata = { account_id: accountId, tier };
      const session = await client.checkout.sessions.create({
        mode: "subscription",
        line_items: [price.metered ? { price: price.id } : { price: price.id, quantity: 1 }],
        client_reference_id: accountId,
        ...(customer ? { customer } : { customer_email: email }),
        metadata,
        subscription_data: { metadata },
        success_url: successUrl,
        cancel_url: cancelUrl,
      });
      if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
      return { id: session.id, url: session.url };
    },
    async createPortalSession({ customer, returnUrl }) {
      const session = await client.billingPortal.sessions.create({ customer, return_url: returnUrl });
      return { url: session.url };
    },
    async reportMeterEvent({ eventName, stripeCustomerId, value, identifier, timestamp }) {
      await client.billing.meterEvents.create({
        event_name: eventName,
        payload: { stripe_customer_id: stripeCustomerId, value: String(value) },
        identifier,
        timestamp,
      });
    },
  };
}

/** A Stripe that is never reachable: every call rejects. For tests that need no Stripe. */
export function createUnreachableStripeAdapter(): StripeAdapter {
  const unreachable = async (): Promise<never> => {
    throw new Error("stripe unreachable");
  };
  return {
    client: {} as Stripe,
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
