import { describe, expect, it } from "vitest";
import { classifyUsageEntry } from "./usage-entry";

const fields = {
  id: "u_0123456789abcdef",
  kind: "admit",
  request_id: "req-1",
  subject: "acct-1",
  stripe_customer_id: "cus_1",
  tier: "pro",
  units: "2",
  ts: "2026-05-01T10:00:00.000Z",
  source: "live",
};

describe("classifyUsageEntry", () => {
  it("turns a well-formed entry into a ledger record", () => {
    expect(classifyUsageEntry({ entryId: "1-0", fields })).toEqual({
      type: "billable",
      record: {
        id: fields.id,
        kind: "admit",
        request_id: "req-1",
        subject: "acct-1",
        stripe_customer_id: "cus_1",
        tier: "pro",
        units: 2,
        ts: fields.ts,
        source: "live",
        stream_entry_id: "1-0",
      },
    });
  });

  it("keeps replayed compensations with their negative units", () => {
    const entry = {
      entryId: "2-0",
      fields: { ...fields, kind: "compensate", units: "-2", source: "replay" },
    };
    expect(classifyUsageEntry(entry)).toMatchObject({
      type: "billable",
      record: { units: -2, source: "replay" },
    });
  });

  it("skips records without a Stripe customer (free tier)", () => {
    expect(classifyUsageEntry({ entryId: "3-0", fields: { ...fields, stripe_customer_id: "" } })).toEqual({
      type: "free",
    });
  });

  it.each([
    [{ id: "" }, "missing or malformed id"],
    [{ kind: "refund" }, "unknown kind refund"],
    [{ units: "1.5" }, "units not a whole number"],
    [{ units: "-1" }, "units -1 have the wrong sign for admit"],
    [{ ts: "yesterday" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "+010000-01-01T00:00:00Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "2026-05-01T10:00:00+02:00" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "1969-12-31T23:59:59Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "2026-13-45T10:00:00Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ units: "999999999" }, "units 999999999 beyond the 1000000 a record may carry"],
    [{ units: "-1000001", kind: "compensate" }, "units -1000001 beyond the 1000000 a record may carry"],
    [{ subject: "acct\u00001" }, "subject empty, too long or with control characters"],
    [{ request_id: "r".repeat(256) }, "request_id empty, too long or with control characters"],
    [{ tier: "pro\n" }, "tier empty, too long or with control characters"],
    [{ subject: "acct-\ud800" }, "subject empty, too long or with control characters"],
    [{ stripe_customer_id: "cus_\u0000" }, "stripe_customer_id too long or with control characters"],
  ])("dead-letters malformed entries (%o)", (override, reason) => {
    expect(classifyUsageEntry({ entryId: "4-0", fields: { ...fields, ...override } })).toEqual({
      type: "poison",
      reason,
    });
  });
});
