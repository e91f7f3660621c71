/**
 * The Stripe SDK side of the Stripe adapter. Only ./index.ts's lazy `import()` and the scripts and
 * tests that need a raw client import this file, so the SDK is not evaluated when a Worker isolate
 * starts.
 */
import Stripe from "stripe";
import { type MeterEventSummary, type StripeAdapter, type StripeOptions, signatureTimestamp } from "./index";

/** Webhook signatures are HMAC-SHA256; Workers have no Node crypto, so SubtleCrypto does it. */
const webhookCrypto = Stripe.createSubtleCryptoProvider();
/** Stripe's default: a signature older than 5 minutes is refused (replay protection). */
const WEBHOOK_TOLERANCE_SECONDS = 300;

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

/** The adapter on the Stripe SDK (imported lazily by createStripeAdapter in ./index.ts). */
export function createStripeSdkAdapter(options: StripeOptions): StripeAdapter {
  const client = createStripeClient(options);
  return {
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
