import { describe, expect, it } from "vitest";
import { periodsBetween } from "./answered-check";

const at = (text: string) => new Date(text);

describe("periodsBetween", () => {
  it("lists the UTC months a range overlaps, up to now", () => {
    expect(
      periodsBetween(
        at("2025-11-15T00:00:00Z"),
        at("2026-02-01T00:00:00Z"),
        Date.parse("2026-06-01T00:00:00Z"),
      ),
    ).toEqual(["2025-11", "2025-12", "2026-01"]);
    // An exclusive end on a month boundary does not add that month; a range ending later stops at now.
    expect(
      periodsBetween(
        at("2026-03-01T00:00:00Z"),
        at("2100-01-01T00:00:00Z"),
        Date.parse("2026-04-10T00:00:00Z"),
      ),
    ).toEqual(["2026-03", "2026-04"]);
  });

  it("reads at most 24 months, the latest ones", () => {
    const periods = periodsBetween(
      at("2000-01-01T00:00:00Z"),
      at("2100-01-01T00:00:00Z"),
      Date.parse("2026-12-01T13:00:00Z"),
    );
    expect(periods).toHaveLength(24);
    expect(periods.at(0)).toBe("2025-01");
    expect(periods.at(-1)).toBe("2026-12");
  });
});
