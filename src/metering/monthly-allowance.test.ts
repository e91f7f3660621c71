import { describe, expect, it } from "vitest";
import { allowanceInForce, monthlyAllowanceView, nextPeriodStartMs } from "./monthly-allowance";

describe("monthly allowance", () => {
  it("resets at 00:00 UTC on the 1st of the next month, across a year's end", () => {
    expect(new Date(nextPeriodStartMs(Date.parse("2026-05-31T23:59:59.999Z"))).toISOString()).toBe(
      "2026-06-01T00:00:00.000Z",
    );
    expect(new Date(nextPeriodStartMs(Date.parse("2026-12-01T00:00:00.000Z"))).toISOString()).toBe(
      "2027-01-01T00:00:00.000Z",
    );
  });

  it("the lower of quota and cap is in force; null where neither is set", () => {
    expect(allowanceInForce(1000, null)).toBe(1000);
    expect(allowanceInForce(null, 50)).toBe(50);
    expect(allowanceInForce(1000, 50)).toBe(50);
    expect(allowanceInForce(10, 50)).toBe(10);
    expect(allowanceInForce(null, 0)).toBe(0);
    expect(allowanceInForce(null, null)).toBeNull();
  });

  it("shows what is left, never below 0, and nothing when unlimited or unknown", () => {
    const nowMs = Date.parse("2026-05-10T12:00:00Z");
    expect(monthlyAllowanceView({ quota: 1000, cap: null, used: 998, nowMs })).toEqual({
      monthly_quota: 1000,
      spend_cap: null,
      limit: 1000,
      remaining: 2,
      resets_at: "2026-06-01T00:00:00.000Z",
    });
    expect(monthlyAllowanceView({ quota: null, cap: 5, used: 9, nowMs }).remaining).toBe(0);
    expect(monthlyAllowanceView({ quota: null, cap: null, used: 9, nowMs }).remaining).toBeNull();
    expect(monthlyAllowanceView({ quota: 1000, cap: null, used: null, nowMs }).remaining).toBeNull();
  });
});
