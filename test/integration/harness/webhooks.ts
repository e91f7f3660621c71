/**
 * Helpers of the webhook suites: Stripe objects built from Stripe's own fixtures
 * (test/fixtures/stripe/fixtures3.json) with our ids filled in, wrapped in events by the fake
 * Stripe, signed as Stripe signs them and POSTed to the app; and a snapshot of what billing decided
 * for an account, in Postgres and in Redis, to compare delivery orders.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { STRIPE_FIXTURES_FILE } from "../../support/fixtures";
import type { StripeEvent } from "../../support/stripe-fake";
import { type AccessHarness, plain, problemOf } from "./access";

const FIXTURES = JSON.parse(readFileSync(STRIPE_FIXTURES_FILE, "utf8")) as {
  resources: Record<string, Record<string, unknown>>;
};

const fixture = (name: string) => structuredClone(FIXTURES.resources[name]) as Record<string, any>;

let sequence = 0;
/** A unique suffix for ids, so every scenario has its own customer, subscription and events. */
export const uniqueId = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(++sequence).toString(36).padStart(4, "0")}`;

export const PRO_LOOKUP_KEY = "schema_meter_pro";

/** Unix seconds now, as Stripe's `created` fields count. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The rate-limit policy a client sees with `token`, or the error code it gets. */
export async function policySeenWith(h: AccessHarness, token: string): Promise<string> {
  const response = await h.request("/v1/account", { headers: { Authorization: `Bearer ${token}` } });
  await h.settle();
  if (response.status !== 200) return String((await problemOf(response)).code);
  return /^"([^"]+)"/.exec(response.headers.get("RateLimit-Policy") ?? "")?.[1] ?? "none";
}

/** "ok" when `apiKey` can mint a token now, else the error code. */
export async function mintToken(h: AccessHarness, apiKey: string): Promise<string> {
  const response = await h.request("/v1/token", {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}` },
  });
  return response.status === 200 ? "ok" : String((await problemOf(response)).code);
}

export function subscriptionObject(init: {
  id: string;
  customer: string;
  status: string;
  created: number;
  lookupKey?: string | null;
  accountId?: string;
  periodEnd?: number;
}) {
  const subscription = fixture("subscription");
  const item = subscription.items.data[0];
  item.price = { ...fixture("price"), lookup_key: init.lookupKey ?? PRO_LOOKUP_KEY, metadata: {} };
  item.subscription = init.id;
  item.current_period_start = init.created;
  item.current_period_end = init.periodEnd ?? init.created + 30 * 86_400;
  return Object.assign(subscription, {
    id: init.id,
    customer: init.customer,
    status: init.status,
    created: init.created,
    start_date: init.created,
    cancel_at: null,
    canceled_at: init.status === "canceled" ? init.created : null,
    ended_at: init.status === "canceled" ? init.created : null,
    cancel_at_period_end: false,
    trial_end: null,
    trial_start: null,
    pending_update: null,
    metadata: init.accountId ? { account_id: init.accountId, tier: "pro" } : {},
  });
}

export function checkoutSessionObject(init: {
  id?: string;
  customer: string;
  subscription: string | null;
  accountId: string;
  tier?: string;
  mode?: string;
  paymentStatus?: string;
}) {
  return Object.assign(fixture("checkout.session"), {
    id: init.id ?? uniqueId("cs_test_"),
    mode: init.mode ?? "subscription",
    status: "complete",
    payment_status: init.paymentStatus ?? "paid",
    customer: init.customer,
    subscription: init.subscription,
    client_reference_id: init.accountId,
    metadata: { account_id: init.accountId, tier: init.tier ?? "pro" },
    url: null,
  });
}

export function invoiceObject(init: {
  customer: string;
  subscription: string;
  paid: boolean;
  created: number;
  periodEnd: number;
  accountId?: string;
}) {
  const invoice = fixture("invoice");
  const line = invoice.lines.data[0];
  line.period = { start: init.periodEnd - 30 * 86_400, end: init.periodEnd };
  return Object.assign(invoice, {
    id: uniqueId("in_"),
    customer: init.customer,
    subscription: null,
    created: init.created,
    status: init.paid ? "paid" : "open",
    amount_paid: init.paid ? invoice.amount_due : 0,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: {
        subscription: init.subscription,
        metadata: init.accountId ? { account_id: init.accountId } : {},
      },
    },
  });
}

export interface WebhookClient {
  /** Signs (fake Stripe's secret, now) and POSTs the event, as one Stripe delivery attempt. */
  deliver(
    event: StripeEvent | string,
    init?: { signature?: string; env?: AccessHarness["env"] },
  ): Promise<Response>;
  /** `deliver`, expecting 200; returns the receipt. */
  deliverOk(event: StripeEvent, env?: AccessHarness["env"]): Promise<{ outcome: string; duplicate: boolean }>;
  event(type: string, object: object, created: number): StripeEvent;
}

export function webhookClient(h: AccessHarness): WebhookClient {
  const client: WebhookClient = {
    async deliverOk(event, env) {
      const response = await client.deliver(event, { env });
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as { outcome: string; duplicate: boolean };
    },
    deliver(event, init = {}) {
      const payload = typeof event === "string" ? event : JSON.stringify(event, null, 2);
      return h.request(
        "/webhooks/stripe",
        {
          method: "POST",
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": init.signature ?? h.stack.stripe.signWebhookPayload(payload),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          },
          body: payload,
        },
        init.env,
      );
    },
    event: (type, object, created) =>
      h.stack.stripe.buildEvent(type, object, { id: uniqueId("evt_"), created }),
  };
  return client;
}

/** An `invoice.paid` or `invoice.payment_failed` event of a subscription, raised when it was created. */
export function invoiceEvent(
  client: WebhookClient,
  type: "invoice.paid" | "invoice.payment_failed",
  { customer, subscription }: { customer: string; subscription: string },
  created: number,
  periodEnd = created + 30 * 86_400,
): StripeEvent {
  const paid = type === "invoice.paid";
  return client.event(type, invoiceObject({ customer, subscription, paid, created, periodEnd }), created);
}

/** A new account that completed checkout at `t0`: linked to a fresh customer and subscription, on pro. */
export async function payingCustomer(h: AccessHarness, client: WebhookClient, t0: number) {
  const account = await h.account();
  const ids = { customer: uniqueId("cus_"), subscription: uniqueId("sub_") };
  await client.deliverOk(
    client.event("checkout.session.completed", checkoutSessionObject({ ...ids, accountId: account.id }), t0),
  );
  return { ...account, ...ids, t0 };
}

/** Billing's decision for an account, as the token service (Postgres) and the hot path (Redis) see it. */
export async function billingSnapshot(h: AccessHarness, accountId: string) {
  const { rows } = await h.sql.query(
    `select tier, status, grace_until, stripe_customer_id, billing_suspended
       from public.accounts where id = $1`,
    [accountId],
  );
  const row = rows[0] as {
    tier: string;
    status: string;
    grace_until: Date | null;
    stripe_customer_id: string | null;
    billing_suspended: boolean;
  };
  return {
    ...row,
    grace_until: row.grace_until ? row.grace_until.toISOString() : null,
    edge_tier: plain(await h.redisCommand("GET", `sm:tier:${accountId}`)),
    edge_denied: plain(await h.redisCommand("EXISTS", `sm:deny:sub:${accountId}`)) === 1,
  };
}

/**
 * One customer's whole lifecycle, as Stripe raises it: checkout (subscription created, first
 * invoice paid, session completed, all in one second), a failed renewal, a paid retry, and the
 * cancellation. `upTo` cuts it short (e.g. 5 ends past due).
 */
export function lifecycleEvents(
  client: WebhookClient,
  ids: { accountId: string; customer: string; subscription: string },
  t0: number,
  upTo = 8,
): StripeEvent[] {
  const { accountId, customer, subscription } = ids;
  const period = (n: number) => t0 + n * 30 * 86_400;
  const sub = (status: string, created: number) =>
    subscriptionObject({
      id: subscription,
      customer,
      status,
      created: t0,
      accountId,
      periodEnd: created + 30 * 86_400,
    });
  const events = [
    client.event("customer.subscription.created", sub("active", t0), t0),
    invoiceEvent(client, "invoice.paid", ids, t0, period(1)),
    client.event(
      "checkout.session.completed",
      checkoutSessionObject({ customer, subscription, accountId }),
      t0,
    ),
    invoiceEvent(client, "invoice.payment_failed", ids, t0 + 100, period(2)),
    client.event("customer.subscription.updated", sub("past_due", t0 + 100), t0 + 100),
    invoiceEvent(client, "invoice.paid", ids, t0 + 200, period(2)),
    client.event("customer.subscription.updated", sub("active", t0 + 200), t0 + 200),
    client.event("customer.subscription.deleted", sub("canceled", t0 + 300), t0 + 300),
  ];
  return events.slice(0, upTo);
}
