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

/** What the Worker needs from Stripe. */
export interface StripeAdapter {
  readonly client: Stripe;
  reportMeterEvent(event: MeterEvent): Promise<void>;
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

export function createStripeAdapter(options: StripeOptions): StripeAdapter {
  const client = createStripeClient(options);
  return {
    client,
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
