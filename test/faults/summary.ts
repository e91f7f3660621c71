/**
 * The fault suite's summary: one line per scenario with the requests made and the units on each
 * side of the billing invariant, printed when a file's scenarios are done (`npm run test:faults`
 * shows it; `npm test` keeps the output of passing tests quiet).
 */
export interface ScenarioSummary {
  scenario: string;
  requests: number;
  answered_2xx: number;
  /** Calls answered with anything else (429, 503, 401, ...). */
  refused: number;
  /** Units of the calls answered 2xx, as the callers saw them. */
  units_answered_2xx: number;
  /** Units Stripe accepted for the scenario's customers. */
  units_billed_stripe: number;
  /** Net units of the ledger's records for the scenario's customers. */
  units_billed_ledger: number;
  /** Units the Worker counted as answered (the reconciliation's independent side). */
  units_answered_counted: number;
  note: string;
}

export const summaries: ScenarioSummary[] = [];

const COLUMNS: (keyof ScenarioSummary)[] = [
  "scenario",
  "requests",
  "answered_2xx",
  "refused",
  "units_answered_2xx",
  "units_billed_stripe",
  "units_billed_ledger",
  "units_answered_counted",
];

/** The summary as a table, with a total line. */
export function summaryTable(rows: ScenarioSummary[] = summaries): string {
  const total = (key: keyof ScenarioSummary) => rows.reduce((sum, row) => sum + Number(row[key]), 0);
  const lines = rows.map((row) => COLUMNS.map((key) => String(row[key])));
  lines.push(["TOTAL", ...COLUMNS.slice(1).map((key) => String(total(key)))]);
  const widths = COLUMNS.map((key, i) => Math.max(key.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  const notes = rows.filter((row) => row.note).map((row) => `  ${row.scenario}: ${row.note}`);
  return [format(COLUMNS), ...lines.map(format), ...(notes.length ? ["notes:", ...notes] : [])].join("\n");
}

export function printSummary(title: string): void {
  if (summaries.length === 0) return;
  console.log(`\nfault suite: ${title}\n${summaryTable()}\n`);
}
