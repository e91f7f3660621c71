/**
 * The console's "estimated charge": this period's units times the unit price of the account's tier,
 * read from Stripe (the price BILLING_PRICE_LOOKUP_KEYS names, the one Checkout sells). An estimate:
 * Stripe's invoice is the bill (tax, credits and proration are Stripe's).
 */
import type { StripeAdapter } from "../adapters/stripe";
import type { Config } from "../config";
import { log } from "../lib/log";

/** The estimate as text (e.g. "$1.23 (1,234 units at $0.001)"), or undefined for unpaid tiers or when Stripe cannot say. */
export async function estimateCharge(
  { stripe, config }: { stripe: StripeAdapter; config: Config },
  account: Record<string, unknown>,
): Promise<string | undefined> {
  const tier = typeof account.tier === "string" ? account.tier : undefined;
  const units = (account.usage as { units?: unknown } | undefined)?.units;
  const lookupKey = tier ? config.BILLING_PRICE_LOOKUP_KEYS[tier] : undefined;
  if (!lookupKey || typeof units !== "number") return undefined;
  try {
    const price = await stripe.findPriceByLookupKey(lookupKey);
    if (!price?.unitAmountDecimal) return undefined;
    return formatEstimate(units, Number(price.unitAmountDecimal), price.currency);
  } catch (error) {
    log("warn", "console price lookup failed", { error: error instanceof Error ? error.name : "unknown" });
    return undefined;
  }
}

/** `units` at `unitAmountMinor` (the currency's smallest unit, decimal) as text. */
export function formatEstimate(units: number, unitAmountMinor: number, currency: string): string {
  const money = (minor: number, digits: number) =>
    new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: currency.toUpperCase(),
      minimumFractionDigits: 2,
      maximumFractionDigits: digits,
    }).format(minor / 100);
  return `${money(units * unitAmountMinor, 2)} (${units.toLocaleString("en-US")} units at ${money(unitAmountMinor, 6)} each)`;
}
