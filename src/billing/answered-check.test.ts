import { describe, expect, it } from "vitest";
import { daysBetween } from "./answered-check";

describe("daysBetween", () => {
  it("lists the UTC days from the first (inclusive) to the last (exclusive), across months and years", () => {
    expect(daysBetween("2025-12-30", "2026-01-02")).toEqual(["2025-12-30", "2025-12-31", "2026-01-01"]);
    expect(daysBetween("2026-03-01", "2026-03-01")).toEqual([]);
    expect(daysBetween("2024-02-28", "2024-03-01")).toEqual(["2024-02-28", "2024-02-29"]);
  });

  it("reads at most 400 days", () => {
    expect(daysBetween("2020-01-01", "2030-01-01")).toHaveLength(400);
  });
});
