/**
 * Units that would be billed, by the ledger's rules, from what the Worker wrote: the usage stream
 * and Postgres's pending usage. A record counts once wherever it landed (keyed by id and kind), and
 * a compensation only nets out an admission that exists.
 */
import type { AccessHarness } from "./access";
import { usageStream } from "./access";

/** Billed units per request id of `subject`. */
export async function billedUnitsByRequest(h: AccessHarness, subject: string): Promise<Map<string, number>> {
  const records = new Map<string, { requestId: string; admit?: number; compensate?: number }>();
  const add = (id: string, requestId: string, kind: string, units: number) => {
    const entry = records.get(id) ?? { requestId };
    if (kind === "admit") entry.admit = units;
    else entry.compensate = (entry.compensate ?? 0) + units;
    records.set(id, entry);
  };
  for (const entry of await usageStream(h)) {
    if (entry.subject === subject) add(entry.id!, entry.request_id!, entry.kind!, Number(entry.units));
  }
  const { rows } = await h.sql.query(
    "select id, request_id, kind, units from public.pending_usage where subject = $1",
    [subject],
  );
  for (const row of rows) add(row.id, row.request_id, row.kind, Number(row.units));
  const billed = new Map<string, number>();
  for (const { requestId, admit, compensate } of records.values()) {
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
