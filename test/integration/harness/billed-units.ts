/**
 * Units that would be billed, by the ledger's rules, from what the Worker wrote: the usage stream
 * and Postgres's pending usage. A record counts once wherever it landed (keyed by id and kind), and
 * a compensation only nets out an admission that exists.
 */
import { expect } from "vitest";
import type { AccessHarness } from "./access";
import { usageStream } from "./access";

/**
 * Billed units per request id of `subject`. With `sameCustomer`, also asserts that each usage's
 * records (admission and compensations) name one Stripe customer: a compensation nets its
 * admission only in the same customer's batch.
 */
export async function billedUnitsByRequest(
  h: AccessHarness,
  subject: string,
  { sameCustomer = false }: { sameCustomer?: boolean } = {},
): Promise<Map<string, number>> {
  const records = new Map<
    string,
    { requestId: string; admit?: number; compensate?: number; customers: Set<string> }
  >();
  const add = (id: string, requestId: string, kind: string, units: number, customer: string | null) => {
    const entry = records.get(id) ?? { requestId, customers: new Set<string>() };
    if (kind === "admit") entry.admit = units;
    // The ledger keys records by (id, kind): a compensation that landed twice counts once.
    else entry.compensate = units;
    entry.customers.add(customer ?? "");
    records.set(id, entry);
  };
  for (const entry of await usageStream(h)) {
    if (entry.subject === subject) {
      add(entry.id!, entry.request_id!, entry.kind!, Number(entry.units), entry.stripe_customer_id ?? null);
    }
  }
  const { rows } = await h.sql.query(
    "select id, request_id, kind, units, stripe_customer_id from public.pending_usage where subject = $1",
    [subject],
  );
  for (const row of rows) add(row.id, row.request_id, row.kind, Number(row.units), row.stripe_customer_id);
  const billed = new Map<string, number>();
  for (const { requestId, admit, compensate, customers } of records.values()) {
    if (sameCustomer) expect(customers.size, `usage ${requestId} under one customer`).toBe(1);
    const units = admit === undefined ? 0 : admit + (compensate ?? 0);
    billed.set(requestId, (billed.get(requestId) ?? 0) + units);
  }
  return billed;
}

/** Billed units of `subject` in all. */
export async function billedUnits(h: AccessHarness, subject: string): Promise<number> {
  let total = 0;
  for (const units of (await billedUnitsByRequest(h, subject)).values()) total += units;
  return total;
}

export { blockRedis } from "../../support/raw-redis";
