import { describe, expect, it } from "vitest";
import { EVENT_RANKS, stripeEventFact, type TierCatalog, tierForPrice } from "./stripe-event";

const catalog: TierCatalog = {
  lookupKeys: { pro: "pro_monthly", team: "team_monthly", ghost: "ghost_monthly" },
  knownTiers: new Set(["free", "pro", "team"]),
};

const event = (type: string, object: object, created = 1_700_000_000) => ({
  id: "evt_1",
  type,
  created,
  data: { object },
});

const subscription = (overrides: object = {}) => ({
  id: "sub_1",
  object: "subscription",
  customer: "cus_1",
  status: "active",
  metadata: { account_id: "acc" },
  items: { data: [{ price: { id: "price_1", lookup_key: "team_monthly", metadata: {} } }] },
  ...overrides,
});

describe("tierForPrice", () => {
  it("maps a lookup key back to its tier, else reads price metadata, and trusts only known tiers", () => {
    expect(tierForPrice(catalog, { lookup_key: "pro_monthly" })).toBe("pro");
    expect(tierForPrice(catalog, { lookup_key: null, metadata: { tier: "team" } })).toBe("team");
    expect(tierForPrice(catalog, { lookup_key: "ghost_monthly" })).toBeNull();
    expect(tierForPrice(catalog, { lookup_key: "other", metadata: { tier: "enterprise" } })).toBeNull();
    expect(tierForPrice(catalog, "price_1")).toBeNull();
  });
});

describe("stripeEventFact", () => {
  it("checkout.session.completed: account from client_reference_id, active only once paid", () => {
    const session = {
      id: "cs_1",
      mode: "subscription",
      status: "complete",
      payment_status: "paid",
      client_reference_id: "acc",
      customer: "cus_1",
      subscription: { id: "sub_1" },
      metadata: { tier: "pro" },
    };
    expect(stripeEventFact(event("checkout.session.completed", session), catalog)).toMatchObject({
      kind: "checkout",
      rank: EVENT_RANKS["checkout.session.completed"],
      account_ref: "acc",
      customer: "cus_1",
      subscription: "sub_1",
      status: "active",
      tier: "pro",
    });
    const unpaid = { ...session, payment_status: "unpaid" };
    expect(stripeEventFact(event("checkout.session.completed", unpaid), catalog)).toMatchObject({
      status: null,
      detail: "checkout not paid yet",
    });
    const payment = { ...session, mode: "payment" };
    expect(stripeEventFact(event("checkout.session.completed", payment), catalog).kind).toBe("other");
  });

  it("customer.subscription.*: status (deleted is canceled) and tier from the items", () => {
    expect(stripeEventFact(event("customer.subscription.updated", subscription()), catalog)).toMatchObject({
      kind: "subscription",
      subscription: "sub_1",
      status: "active",
      tier: "team",
      account_ref: "acc",
    });
    expect(
      stripeEventFact(event("customer.subscription.deleted", subscription({ status: "active" })), catalog),
    ).toMatchObject({ status: "canceled", rank: 5 });
    const unknownPrice = subscription({
      items: { data: [{ price: { lookup_key: "nope", metadata: {} } }] },
      metadata: {},
    });
    expect(stripeEventFact(event("customer.subscription.created", unknownPrice), catalog)).toMatchObject({
      tier: null,
      detail: "no price of this subscription maps to a known tier",
    });
  });

  it("invoice.*: the subscription from parent (basil) or the legacy field, and the period paid for", () => {
    const invoice = {
      id: "in_1",
      customer: "cus_1",
      parent: { subscription_details: { subscription: "sub_1", metadata: { account_id: "acc" } } },
      lines: { data: [{ period: { end: 10 } }, { period: { end: 30 } }] },
      period_end: 5,
    };
    expect(stripeEventFact(event("invoice.paid", invoice), catalog)).toMatchObject({
      kind: "invoice",
      subscription: "sub_1",
      invoice_state: "paid",
      period_end: 30,
      account_ref: "acc",
    });
    const legacy = {
      id: "in_2",
      customer: "cus_1",
      subscription: "sub_9",
      parent: null,
      lines: { data: [] },
    };
    expect(stripeEventFact(event("invoice.payment_failed", legacy), catalog)).toMatchObject({
      subscription: "sub_9",
      invoice_state: "failed",
      period_end: null,
    });
    const oneOff = { id: "in_3", customer: "cus_1", parent: null, subscription: null };
    expect(stripeEventFact(event("invoice.paid", oneOff), catalog).kind).toBe("other");
  });

  it("other types are facts of kind other", () => {
    expect(stripeEventFact(event("customer.created", { id: "cus_1" }), catalog)).toMatchObject({
      kind: "other",
      detail: "event type not handled",
    });
  });

  it("ranks order a lifecycle within one second", () => {
    const order = [
      "checkout.session.completed",
      "customer.subscription.created",
      "invoice.payment_failed",
      "invoice.paid",
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ].map((type) => EVENT_RANKS[type]);
    // Every type ranked, strictly increasing along the lifecycle (no ties, none missing).
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
