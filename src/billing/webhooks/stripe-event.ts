/**
 * Turns a verified Stripe event into the small, typed fact that `apply_stripe_event`
 * (migrations/0004_billing_webhooks.sql) applies. Pure: no I/O, so it is tested beside the code.
 *
 * What each handled type contributes (everything else is recorded as ignored):
 * - checkout.session.completed (subscription mode): links the customer to the account named by
 *   `client_reference_id` (or `metadata.account_id`) and, once paid, marks the subscription active
 *   on the tier in `metadata.tier`.
 * - customer.subscription.created / updated / deleted: the subscription's status (deleted is
 *   always `canceled`) and the tier its price maps to (lookup key, else price or subscription
 *   metadata `tier`).
 * - invoice.paid / invoice.payment_failed: the invoice outcome of the subscription it belongs to
 *   and, when paid, the end of the period it paid for.
 */
import { z } from "zod";

/** The kinds of state an event can change; `other` changes nothing. */
export type StripeEventKind = "checkout" | "subscription" | "invoice" | "other";

/** What `apply_stripe_event` receives (snake_case: it is read as JSON by SQL). */
export interface StripeEventFact {
  id: string;
  type: string;
  /** The event's `created`, unix seconds: its version, with `rank` and `id` as tie-breaks. */
  created: number;
  kind: StripeEventKind;
  rank: number;
  object_id: string | null;
  /** Our account id, when the object carries it (client_reference_id or metadata.account_id). */
  account_ref: string | null;
  customer: string | null;
  subscription: string | null;
  /** Stripe subscription status; null when the event does not decide it. */
  status: string | null;
  tier: string | null;
  invoice_state: "paid" | "failed" | null;
  /** Unix seconds: end of the period a paid invoice covers. */
  period_end: number | null;
  detail: string | null;
}

/**
 * Order of event types within one second (Stripe's `created` has one-second resolution): a later
 * step of the lifecycle wins a tie. Subscription updates come after invoice outcomes because
 * Stripe updates the subscription's status as a consequence of its invoice.
 */
export const EVENT_RANKS: Record<string, number> = {
  "checkout.session.completed": 0,
  "customer.subscription.created": 1,
  "invoice.payment_failed": 2,
  "invoice.paid": 3,
  "customer.subscription.updated": 4,
  "customer.subscription.deleted": 5,
};

/** The events to subscribe the webhook endpoint to. */
export const HANDLED_EVENT_TYPES = Object.keys(EVENT_RANKS);

export interface TierCatalog {
  /** Tier name to Stripe price lookup key (BILLING_PRICE_LOOKUP_KEYS). */
  lookupKeys: Record<string, string>;
  /** Tiers the rate limiter knows (RATE_LIMIT_TIERS); any other tier name is not trusted. */
  knownTiers: ReadonlySet<string>;
}

/**
 * The envelope of a verified event, as Stripe documents it; only these fields are read. A body
 * signed with our secret is not necessarily one (a bug or a leaked secret), and the SQL function
 * must never see a NaN time or an id that is not a string.
 */
export const verifiedStripeEventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  created: z.number().int().min(0).max(253_402_300_799), // at most 9999-12-31
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** What the normaliser reads of a verified event. */
export interface VerifiedStripeEvent {
  id: string;
  type: string;
  created: number;
  data: { object: unknown };
}

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;

const asString = (value: unknown): string | null =>
  typeof value === "string" && value.length > 0 ? value : null;

/** Stripe fields that hold an id, or the object when expanded. */
const idOf = (value: unknown): string | null => asString(value) ?? asString(asObject(value)?.id);

const metadataOf = (object: Json | undefined): Json => asObject(object?.metadata) ?? {};

function knownTier(catalog: TierCatalog, name: unknown): string | null {
  const tier = asString(name);
  return tier && catalog.knownTiers.has(tier) ? tier : null;
}

/** The tier a price buys: its lookup key mapped back through the catalog, else its metadata. */
export function tierForPrice(catalog: TierCatalog, price: unknown): string | null {
  const object = asObject(price);
  const lookupKey = asString(object?.lookup_key);
  if (lookupKey) {
    for (const [tier, key] of Object.entries(catalog.lookupKeys)) {
      if (key === lookupKey && catalog.knownTiers.has(tier)) return tier;
    }
  }
  return knownTier(catalog, metadataOf(object).tier);
}

function subscriptionTier(catalog: TierCatalog, subscription: Json): string | null {
  const items = asObject(subscription.items)?.data;
  for (const item of Array.isArray(items) ? items : []) {
    const tier = tierForPrice(catalog, asObject(item)?.price);
    if (tier) return tier;
  }
  return knownTier(catalog, metadataOf(subscription).tier);
}

function latestPeriodEnd(invoice: Json): number | null {
  let end: number | null = null;
  const lines = asObject(invoice.lines)?.data;
  for (const line of Array.isArray(lines) ? lines : []) {
    const lineEnd = asObject(asObject(line)?.period)?.end;
    if (typeof lineEnd === "number" && (end === null || lineEnd > end)) end = lineEnd;
  }
  if (end === null && typeof invoice.period_end === "number") end = invoice.period_end;
  return end;
}

/** The fact `apply_stripe_event` applies for a verified event. */
export function stripeEventFact(event: VerifiedStripeEvent, catalog: TierCatalog): StripeEventFact {
  const object = asObject(event.data.object) ?? {};
  const fact: StripeEventFact = {
    id: event.id,
    type: event.type,
    created: Math.floor(event.created),
    kind: "other",
    rank: EVENT_RANKS[event.type] ?? 0,
    object_id: asString(object.id),
    account_ref: null,
    customer: idOf(object.customer),
    subscription: null,
    status: null,
    tier: null,
    invoice_state: null,
    period_end: null,
    detail: null,
  };
  switch (event.type) {
    case "checkout.session.completed": {
      if (object.mode !== "subscription") return { ...fact, detail: "not a subscription checkout" };
      const metadata = metadataOf(object);
      const paid =
        object.status === "complete" &&
        (object.payment_status === "paid" || object.payment_status === "no_payment_required");
      const tier = knownTier(catalog, metadata.tier);
      return {
        ...fact,
        kind: "checkout",
        account_ref: asString(object.client_reference_id) ?? asString(metadata.account_id),
        subscription: idOf(object.subscription),
        // Unpaid (an asynchronous payment method): link only; the subscription events decide.
        status: paid && tier ? "active" : null,
        tier,
        detail: paid ? (tier ? null : "checkout metadata names no known tier") : "checkout not paid yet",
      };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const tier = subscriptionTier(catalog, object);
      return {
        ...fact,
        kind: "subscription",
        account_ref: asString(metadataOf(object).account_id),
        subscription: fact.object_id,
        status: event.type === "customer.subscription.deleted" ? "canceled" : asString(object.status),
        tier,
        detail: tier ? null : "no price of this subscription maps to a known tier",
      };
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const details = asObject(asObject(object.parent)?.subscription_details);
      const subscription = idOf(details?.subscription) ?? idOf(object.subscription);
      if (!subscription) return { ...fact, detail: "invoice of no subscription" };
      const paid = event.type === "invoice.paid";
      return {
        ...fact,
        kind: "invoice",
        account_ref: asString(metadataOf(details).account_id),
        subscription,
        invoice_state: paid ? "paid" : "failed",
        period_end: paid ? latestPeriodEnd(object) : null,
      };
    }
    default:
      return { ...fact, detail: "event type not handled" };
  }
}
