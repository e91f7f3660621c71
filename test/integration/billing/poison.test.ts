/**
 * Poison in the usage stream can never stall the drain: entries its check refuses (a 5-digit year,
 * a NUL byte, a billion units, every rule of drain-usage.ts) are dead-lettered with their reason
 * and raw fields while everything around them is billed exactly; batch sums are bigint, so large
 * buckets cannot overflow batch formation for every customer.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { USAGE_DEAD_LETTER_KEY, USAGE_STREAM_KEY } from "../../../src/metering/scripts/keys";
import { appendRawUsage } from "../../support/raw-redis";
import { plain } from "../harness/access";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
});

const appendRaw = (customer: string, overrides: Record<string, string>) =>
  appendRawUsage(h, customer, overrides);

async function deadLetters(): Promise<Record<string, string>[]> {
  const entries = plain(await h.redisCommand("XRANGE", USAGE_DEAD_LETTER_KEY, "-", "+")) as
    | [string, string[]][]
    | null;
  return (entries ?? []).map(([, fields]) => {
    const record: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
    return record;
  });
}

describe("poison in the usage stream", () => {
  it("entries the classifier refuses are dead-lettered with their reason; the rest is billed exactly", async () => {
    const customer = h.customer();
    await h.admit(customer, 3);
    const poisoned = [
      await appendRaw(customer, { ts: "+010000-01-01T00:00:00Z" }),
      await appendRaw(customer, { subject: "acct\u0000x" }),
      await appendRaw(customer, { units: "999999999" }),
      await appendRaw(customer, { units: "999999999" }),
      await appendRaw(customer, { units: "999999999" }),
    ];
    await h.admit(customer, 2);

    const report = await h.flush();
    expect(report.poison).toBe(5);
    expect(report.stopped).toBe("drained");
    expect(report.errors).toEqual([]);
    const dead = await deadLetters();
    expect(dead.map((entry) => entry.entry_id).sort()).toEqual([...poisoned].sort());
    expect(dead.map((entry) => entry.reason)).toEqual([
      "ts not an ISO 8601 UTC timestamp",
      "subject empty, too long or with control characters",
      ...Array(3).fill("units 999999999 beyond the 1000000 a record may carry"),
    ]);
    await h.expectExactlyBilled();
  });

  // Each rule of the drain's check (drain-usage.ts), with the reason it dead-letters under.
  it.each([
    [{ id: "" }, "missing or malformed id"],
    [{ id: "u_bad id!" }, "missing or malformed id"],
    [{ kind: "refund" }, "unknown kind refund"],
    [{ units: "1.5" }, "units not a whole number"],
    [{ units: "1234567890" }, "units not a whole number"],
    [{ units: "-1" }, "units -1 have the wrong sign for admit"],
    [{ kind: "compensate", units: "1" }, "units 1 have the wrong sign for compensate"],
    [{ ts: "yesterday" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "+010000-01-01T00:00:00Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "2026-05-01T10:00:00+02:00" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "1969-12-31T23:59:59Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "2026-13-45T10:00:00Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "2026-02-29T10:00:00Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ ts: "2026-05-01T10:00:00.1234Z" }, "ts not an ISO 8601 UTC timestamp"],
    [{ units: "999999999" }, "units 999999999 beyond the 1000000 a record may carry"],
    [{ units: "-1000001", kind: "compensate" }, "units -1000001 beyond the 1000000 a record may carry"],
    [{ subject: "" }, "missing fields"],
    [{ subject: "acct\u00001" }, "subject empty, too long or with control characters"],
    [{ request_id: "r".repeat(256) }, "request_id empty, too long or with control characters"],
    [{ request_id: "é".repeat(255) }, null],
    [{ tier: "pro\n" }, "tier empty, too long or with control characters"],
    [{ tier: "pro\u0085" }, "tier empty, too long or with control characters"],
    [{ stripe_customer_id: "cus_\u0000" }, "stripe_customer_id too long or with control characters"],
  ])("checks an entry (%o): dead-lettered as %s (null: counted)", async (override, reason) => {
    const customer = h.customer();
    const entry = await appendRaw(customer, override as Record<string, string>);
    const report = await h.flush();
    const dead = await deadLetters();
    if (reason === null) {
      expect(report).toMatchObject({ poison: 0, ingested: 1 });
      return;
    }
    expect(report).toMatchObject({ poison: 1, ingested: 0, read: 1 });
    expect(dead.map(({ entry_id, reason }) => ({ entry_id, reason }))).toEqual([{ entry_id: entry, reason }]);
    expect(JSON.parse(dead[0]!.fields!)).toMatchObject({ id: expect.any(String), ...override });
  });

  it("a run that cannot reach the ledger says database_unavailable and acknowledges nothing", async () => {
    const customer = h.customer();
    await h.admit(customer, 3);
    const report = await h.flush({}, undefined, {
      db: {
        rpc: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
        },
      },
    });
    expect(report.stopped).toBe("database_unavailable");
    expect(report.acknowledged).toBe(0);
    expect(await h.xlen(USAGE_STREAM_KEY)).toBe(3);
    await h.expectExactlyBilled();
  });

  it("batch sums are bigint: records adding up past 2^31 form one batch", async () => {
    const customer = h.customer();
    for (let i = 0; i < 3; i++) {
      await h.sql.query(
        `insert into public.usage_buckets (id, stripe_customer_id, subject, starts_at, period, admitted,
           compensated, records, first_at, last_at)
         values ($1, $2, 'acct', date_trunc('hour', now()), to_char(now() at time zone 'utc', 'YYYY-MM'),
           999999999, 0, 1, now() - interval '1 minute', now() - interval '1 minute')`,
        [`smb_big_${i}_${customer.toLowerCase().replace(/[^a-z0-9]/g, "")}`.slice(0, 84), customer],
      );
    }
    const { rows } = await h.sql.query("select public.ledger_form_batches(0, 5000) as result");
    expect(rows[0].result).toMatchObject({ batches: 1, records: 3 });
    const batches = await h.sql.query(
      "select units::text from public.usage_batches where stripe_customer_id = $1",
      [customer],
    );
    expect(batches.rows).toEqual([{ units: "2999999997" }]);
  });
});
