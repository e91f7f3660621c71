/**
 * Poison in the usage stream can never stall ingestion: entries the classifier refuses (a 5-digit
 * year, a NUL byte, a billion units) and entries Postgres itself refuses are dead-lettered with
 * their reason while everything around them is billed exactly; batch sums are bigint, so large
 * records cannot overflow batch formation for every customer.
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

  it("an entry Postgres refuses is found by splitting its chunk and dead-lettered with the database's reason", async () => {
    const customer = h.customer();
    // A rule the classifier does not know: the real database refuses this one record.
    await h.sql.query(
      "alter table public.usage_ledger add constraint test_refuses_poison check (request_id <> 'refused-by-postgres')",
    );
    try {
      await h.admit(customer, 40);
      const refused = await appendRaw(customer, { request_id: "refused-by-postgres" });
      await h.admit(customer, 40);

      const report = await h.flush();
      expect(report.poison).toBe(1);
      expect(report.ingested).toBe(80);
      expect(report.stopped).toBe("drained");
      const [dead] = await deadLetters();
      expect(dead?.entry_id).toBe(refused);
      expect(dead?.reason).toMatch(/^postgres refused it: .*test_refuses_poison/);
      expect(await h.xlen(USAGE_STREAM_KEY)).toBe(0);
      await h.expectExactlyBilled();
    } finally {
      await h.sql.query("alter table public.usage_ledger drop constraint if exists test_refuses_poison");
    }
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
        `insert into public.usage_ledger (id, kind, request_id, subject, stripe_customer_id, tier, units,
           occurred_at, period, source)
         values ($1, 'admit', $2, 'acct', $3, 'pro', 999999999, now() - interval '1 minute',
           to_char(now() at time zone 'utc', 'YYYY-MM'), 'live')`,
        [`u_big_${i}_${customer}`.slice(0, 64), `req-big-${i}`, customer],
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
