/**
 * `npm run stripe:setup`: creates, idempotently, what billing needs in a Stripe account and prints
 * the ids to configure:
 * - the billing meter (sum aggregation) for STRIPE_METER_EVENT_NAME (default `api_validation`),
 *   customer from `payload[stripe_customer_id]`, value from `payload[value]`;
 * - per paid tier (BILLING_PRICE_LOOKUP_KEYS, default {"pro":"schema_meter_pro"}): a product with
 *   the fixed id `schema_meter_<tier>`, and a monthly metered price on the meter with that lookup key.
 * Running it again finds everything by event name, product id and lookup key and creates nothing.
 *
 *   STRIPE_SECRET_KEY=sk_test_... npm run stripe:setup [-- --unit-amount-decimal 0.1 --currency usd]
 *   STRIPE_API_BASE=http://127.0.0.1:12111 ...   (a Stripe-compatible server, e.g. the local fake)
 *
 * With neither STRIPE_SECRET_KEY nor STRIPE_API_BASE set, it runs against the fake Stripe of a
 * running `npm run dev` (which already ran this setup when it started).
 *
 * `--unit-amount-decimal` is the price of one unit in the currency's minor unit (default 0.1, i.e.
 * $0.001 per validation). Real Stripe: use a test-mode key first.
 */
import { pathToFileURL } from "node:url";
import Stripe from "stripe";
import { createStripeClient } from "../src/adapters/stripe/sdk";
import { parseArgs, say } from "./lib/access-cli";
import { useDevStackDefaults } from "./lib/dev-stack";

export interface StripeSetupOptions {
  eventName: string;
  /** Paid tier to price lookup key. */
  lookupKeys: Record<string, string>;
  currency: string;
  unitAmountDecimal: string;
}

export interface StripeSetupResult {
  meter: { id: string; event_name: string; created: boolean };
  tiers: Record<string, { product: string; price: string; lookup_key: string; created: boolean }>;
}

/** Finds or creates the meter, products and prices. Safe to run any number of times. */
export async function setupStripe(stripe: Stripe, options: StripeSetupOptions): Promise<StripeSetupResult> {
  let meter: Stripe.Billing.Meter | undefined;
  for await (const candidate of stripe.billing.meters.list({ status: "active", limit: 100 })) {
    if (candidate.event_name === options.eventName) {
      meter = candidate;
      break;
    }
  }
  const meterCreated = !meter;
  if (!meter) {
    meter = await stripe.billing.meters.create({
      display_name: "API validations",
      event_name: options.eventName,
      default_aggregation: { formula: "sum" },
      customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
      value_settings: { event_payload_key: "value" },
    });
  } else if (meter.default_aggregation.formula !== "sum") {
    throw new Error(
      `meter ${meter.id} for ${options.eventName} aggregates with ${meter.default_aggregation.formula}, not sum; deactivate it or choose another STRIPE_METER_EVENT_NAME`,
    );
  }

  const tiers: StripeSetupResult["tiers"] = {};
  for (const [tier, lookupKey] of Object.entries(options.lookupKeys)) {
    const productId = `schema_meter_${tier}`;
    let product: Stripe.Product;
    let created = false;
    try {
      product = await stripe.products.retrieve(productId);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      product = await stripe.products.create({
        id: productId,
        name: `Schema validation API (${tier})`,
        unit_label: "validation",
        metadata: { tier },
      });
      created = true;
    }
    const existing = (await stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 })).data[0];
    const fits =
      existing &&
      existing.product === product.id &&
      existing.recurring?.usage_type === "metered" &&
      existing.recurring.meter === meter.id;
    let priceId = existing?.id;
    if (!fits) {
      const price = await stripe.prices.create({
        product: product.id,
        currency: options.currency,
        unit_amount_decimal: Stripe.Decimal.from(options.unitAmountDecimal),
        recurring: { interval: "month", usage_type: "metered", meter: meter.id },
        lookup_key: lookupKey,
        // Moves the key from an old price (another meter or product) to this one.
        transfer_lookup_key: true,
        metadata: { tier },
      });
      priceId = price.id;
      created = true;
    }
    tiers[tier] = { product: product.id, price: priceId as string, lookup_key: lookupKey, created };
  }
  return { meter: { id: meter.id, event_name: meter.event_name, created: meterCreated }, tiers };
}

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  if (!process.env.STRIPE_SECRET_KEY && process.env.STRIPE_API_BASE === undefined && useDevStackDefaults()) {
    say(`using the fake Stripe of the running npm run dev (${process.env.STRIPE_API_BASE})`);
  }
  const secretKey = process.env.STRIPE_SECRET_KEY;
  if (!secretKey) {
    say("STRIPE_SECRET_KEY is missing (use a test-mode key, or the local fake's key with STRIPE_API_BASE)");
    return 2;
  }
  const lookupKeys = process.env.BILLING_PRICE_LOOKUP_KEYS
    ? (JSON.parse(process.env.BILLING_PRICE_LOOKUP_KEYS) as Record<string, string>)
    : { pro: "schema_meter_pro" };
  const stripe = createStripeClient({ secretKey, apiBase: process.env.STRIPE_API_BASE, timeoutMs: 20_000 });
  const result = await setupStripe(stripe, {
    eventName: process.env.STRIPE_METER_EVENT_NAME || "api_validation",
    lookupKeys,
    currency: flags.currency ?? "usd",
    unitAmountDecimal: flags["unit-amount-decimal"] ?? "0.1",
  });
  say(`meter ${result.meter.id} (${result.meter.event_name}) ${result.meter.created ? "created" : "exists"}`);
  for (const [tier, ids] of Object.entries(result.tiers)) {
    say(
      `${tier}: product ${ids.product}, price ${ids.price} (lookup key ${ids.lookup_key}) ${ids.created ? "created" : "exists"}`,
    );
  }
  say("configure:");
  console.log(`STRIPE_METER_EVENT_NAME=${result.meter.event_name}`);
  console.log(`BILLING_PRICE_LOOKUP_KEYS='${JSON.stringify(lookupKeys)}'`);
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      say(`stripe:setup failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
