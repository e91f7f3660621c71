import { describe, expect, it } from "vitest";
import { MAX_METER_EVENT_VALUE, meterEventParts } from "./meter-event-parts";

const ID = "smu_0123456789abcdef0123456789abcdef";

describe("meterEventParts", () => {
  it("sends a batch within 15 digits as one event named by the batch id", () => {
    expect(meterEventParts(ID, 42)).toEqual([{ identifier: ID, value: 42 }]);
    expect(meterEventParts(ID, MAX_METER_EVENT_VALUE)).toEqual([
      { identifier: ID, value: MAX_METER_EVENT_VALUE },
    ]);
    expect(meterEventParts(ID, -7)).toEqual([{ identifier: ID, value: -7 }]);
  });

  it("splits a larger batch into parts of at most 15 digits that sum to it, with stable identifiers", () => {
    const units = 2 * MAX_METER_EVENT_VALUE + 5;
    const parts = meterEventParts(ID, units);
    expect(parts).toEqual([
      { identifier: `${ID}_p1`, value: MAX_METER_EVENT_VALUE },
      { identifier: `${ID}_p2`, value: MAX_METER_EVENT_VALUE },
      { identifier: `${ID}_p3`, value: 5 },
    ]);
    expect(parts.reduce((sum, part) => sum + part.value, 0)).toBe(units);
    for (const part of parts) expect(String(Math.abs(part.value)).length).toBeLessThanOrEqual(15);
    expect(meterEventParts(ID, units)).toEqual(parts);
    expect(meterEventParts(ID, -(MAX_METER_EVENT_VALUE + 1))).toEqual([
      { identifier: `${ID}_p1`, value: -MAX_METER_EVENT_VALUE },
      { identifier: `${ID}_p2`, value: -1 },
    ]);
  });

  it("refuses units JavaScript cannot hold exactly", () => {
    expect(() => meterEventParts(ID, 2 ** 53)).toThrow(RangeError);
  });
});
