/**
 * Self-serve billing: a Stripe Checkout link to buy a tier, and a Customer Portal link to manage
 * the subscription. Nothing changes here: the tier changes when Stripe's webhook says the customer
 * paid (src/billing/webhooks). Stripe is reached only through the Stripe adapter (timeouts, no retries).
 */

import { getAccount } from "../access/accounts";
import type { StripeAdapter } from "../adapters/stripe";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import { Refusal } from "../refusal";

export interface BillingDeps {
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  config: Config;
}

/**
 * Where Stripe sends the customer back: configured URLs only. Never derived from the request
 * (`Host` is the caller's to choose, and a Checkout page that returns to an attacker's site
 * with a session id is a phishing aid). Without BILLING_SUCCESS_URL billing is not set up.
 */
export function billingReturnUrls(config: Config) {
  const success = config.BILLING_SUCCESS_URL;
  if (!success) {
    throw new Refusal(
      "SERVICE_MISCONFIGURED",
      "Billing is not set up: BILLING_SUCCESS_URL is not configured.",
      {
        cause: new Error("BILLING_SUCCESS_URL is not set"),
      },
    );
  }
  return {
    success,
    cancel: config.BILLING_CANCEL_URL ?? success,
    portalReturn: config.BILLING_PORTAL_RETURN_URL ?? success,
  };
}

/** Tiers that can be bought: those with a price lookup key and a rate limit. */
export function purchasableTiers(config: Config): string[] {
  return Object.keys(config.BILLING_PRICE_LOOKUP_KEYS).filter((tier) => tier in config.RATE_LIMIT_TIERS);
}

/** Stripe errors become 503 with no detail; the cause goes to the log. */
async function callStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Refusal) throw error;
    throw new Refusal("DEPENDENCY_UNAVAILABLE", "Billing is unavailable right now; try again shortly.", {
      cause: error,
    });
  }
}

async function accountOf(db: DatabaseAdapter, accountId: string) {
  const account = await getAccount(db, accountId);
  if (!account) throw new Refusal("NOT_FOUND", "This token's account no longer exists.");
  return account;
}

/** POST /v1/billing/checkout: a hosted Checkout URL for `tier`'s price (found by its lookup key). */
export async function createCheckoutLink(
  { db, stripe, config }: BillingDeps,
  { accountId, tier }: { accountId: string; tier: string },
): Promise<{ url: string; session_id: string; tier: string }> {
  const lookupKey = config.BILLING_PRICE_LOOKUP_KEYS[tier];
  if (!lookupKey || !(tier in config.RATE_LIMIT_TIERS)) {
    throw new Refusal(
      "BILLING_TIER_UNAVAILABLE",
      `Tier "${tier}" cannot be bought; choose one of: ${purchasableTiers(config).join(", ") || "(none)"}.`,
    );
  }
  const account = await accountOf(db, accountId);
  const price = await callStripe(() => stripe.findPriceByLookupKey(lookupKey));
  if (!price) {
    throw new Refusal("SERVICE_MISCONFIGURED", "Billing is not set up for this tier.", {
      cause: new Error(`no active Stripe price has lookup key ${lookupKey} (BILLING_PRICE_LOOKUP_KEYS)`),
    });
  }
  const urls = billingReturnUrls(config);
  const session = await callStripe(() =>
    stripe.createCheckoutSession({
      price,
      accountId: account.id,
      tier,
      customer: account.stripe_customer_id,
      email: account.email,
      successUrl: urls.success,
      cancelUrl: urls.cancel,
    }),
  );
  return { url: session.url, session_id: session.id, tier };
}

/** POST /v1/billing/portal: a Customer Portal URL; 409 BILLING_NO_CUSTOMER before the first checkout. */
export async function createPortalLink(
  { db, stripe, config }: BillingDeps,
  { accountId }: { accountId: string },
): Promise<{ url: string }> {
  const account = await accountOf(db, accountId);
  if (!account.stripe_customer_id) {
    throw new Refusal(
      "BILLING_NO_CUSTOMER",
      "This account has no subscription to manage yet; start one with POST /v1/billing/checkout.",
    );
  }
  const customer = account.stripe_customer_id;
  const returnUrl = billingReturnUrls(config).portalReturn;
  return callStripe(() => stripe.createPortalSession({ customer, returnUrl }));
}
