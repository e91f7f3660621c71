import { describe, expect, it } from "vitest";
import { classifyMeterError, retryAfterSeconds } from "./meter-outcome";

describe("classifyMeterError", () => {
  it("treats a duplicate identifier as already accepted (the retry-after-crash case)", () => {
    expect(
      classifyMeterError({ statusCode: 400, message: "An event already exists with identifier smu_abc." }),
    ).toEqual({ kind: "already_accepted" });
  });

  it("retries timeouts, connection errors and 5xx, counting them against the breaker", () => {
    for (const error of [
      { type: "StripeConnectionError", message: "timeout" },
      { statusCode: 500, message: "boom" },
      { statusCode: 503, message: "unavailable" },
      new Error("socket hang up"),
    ]) {
      expect(classifyMeterError(error)).toMatchObject({
        kind: "retry",
        breakerFailure: true,
        rateLimited: false,
      });
    }
  });

  it("retries 429 after Retry-After without tripping the breaker", () => {
    expect(
      classifyMeterError({
        statusCode: 429,
        code: "rate_limit",
        message: "slow down",
        headers: { "retry-after": "7" },
      }),
    ).toMatchObject({ kind: "retry", retryAfterSeconds: 7, rateLimited: true, breakerFailure: false });
  });

  it("retries auth failures (a deployment problem) instead of dead-lettering every batch", () => {
    expect(classifyMeterError({ statusCode: 401, message: "Invalid API Key" })).toMatchObject({
      kind: "retry",
    });
  });

  it("rejects other 4xx permanently with a reason", () => {
    expect(
      classifyMeterError({ statusCode: 400, code: "resource_missing", message: "No such customer: 'cus_x'" }),
    ).toEqual({ kind: "rejected", reason: "400 resource_missing: No such customer: 'cus_x'" });
    expect(
      classifyMeterError({ statusCode: 400, code: "timestamp_too_far_in_past", message: "too old" }),
    ).toMatchObject({ kind: "rejected" });
  });
});

describe("retryAfterSeconds", () => {
  it("reads delta seconds and HTTP dates", () => {
    expect(retryAfterSeconds("12")).toBe(12);
    expect(retryAfterSeconds(new Date(61_000).toUTCString(), 1_000)).toBe(60);
    expect(retryAfterSeconds(undefined)).toBeNull();
    expect(retryAfterSeconds("soon")).toBeNull();
  });
});
