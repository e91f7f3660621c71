import { describe, expect, it } from "vitest";
import { billingPeriodsOf } from "./billing-periods";

describe("billingPeriodsOf", () => {
  it("reads the items' current period of a subscription event (basil and later)", () => {
    const periods = billingPeriodsOf({
      type: "customer.subscription.updated",
      data: {
        object: {
          id: "sub_1",
          customer: "cus_1",
          items: {
            data: [
              { current_period_start: 100, current_period_end: 200 },
              { current_period_start: 100, current_period_end: 200 },
            ],
          },
        },
      },
    });
    expect(periods).toEqual([{ subscription: "sub_1", customer: "cus_1", start: 100, end: 200 }]);
  });

  it("falls back to the subscription's own fields (older API versions)", () => {
    const periods = billingPeriodsOf({
      type: "customer.subscription.created",
      data: {
        object: { id: "sub_1", customer: { id: "cus_1" }, current_period_start: 5, current_period_end: 9 },
      },
    });
    expect(periods).toEqual([{ subscription: "sub_1", customer: "cus_1", start: 5, end: 9 }]);
  });

  it("reads an invoice's line periods, and ignores other types and broken periods", () => {
    const invoice = {
      customer: "cus_1",
      parent: { subscription_details: { subscription: "sub_1" } },
      lines: { data: [{ period: { start: 100, end: 200 } }, { period: { start: 300, end: 300 } }] },
    };
    expect(billingPeriodsOf({ type: "invoice.paid", data: { object: invoice } })).toEqual([
      { subscription: "sub_1", customer: "cus_1", start: 100, end: 200 },
    ]);
    expect(billingPeriodsOf({ type: "invoice.created", data: { object: invoice } })).toEqual([]);
    expect(
      billingPeriodsOf({ type: "customer.subscription.updated", data: { object: { id: "sub_1" } } }),
    ).toEqual([]);
  });
});
