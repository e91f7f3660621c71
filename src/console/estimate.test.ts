import { describe, expect, it } from "vitest";
import { formatEstimate } from "./estimate";

describe("formatEstimate", () => {
  it("multiplies units by a fractional-cent unit price and rounds the total to cents", () => {
    expect(formatEstimate(1234, 0.1, "usd")).toBe("$1.23 (1,234 units at $0.001 each)");
    expect(formatEstimate(0, 0.1, "usd")).toBe("$0.00 (0 units at $0.001 each)");
    expect(formatEstimate(3, 250, "eur")).toBe("€7.50 (3 units at €2.50 each)");
  });
});
