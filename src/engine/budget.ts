/**
 * The one per-request work budget of the cost model: every part of an evaluation (subschema
 * evaluations, elements scanned, regex steps, output units) spends from it, and spending past the
 * end throws `ValidationLimitError` with kind "budget" (the API's 422 LIMIT_EXCEEDED `cpu_budget`;
 * a backtracking pattern match that runs past its own cap is `regex_budget` instead).
 * Work is counted, not timed: Workers' clocks do not advance during synchronous work.
 */
export interface WorkBudget {
  /** Spends `units` of work; throws ValidationLimitError("budget") once the budget is exhausted. */
  spend(units: number): void;
}

/**
 * The exchange rate of linear work into budget units, so that a unit costs about the same CPU time
 * whatever spends it. Measured in Node on the shapes of test/support/security-probe.ts (2 cores,
 * 2026-12-01): a subschema evaluation costs 80–140 ns; JSON.parse of a string for
 * `contentMediaType`, the slowest per-character scan, about 7 ns a character, format checks and
 * code-point counting about 1 ns; a node of a structural comparison (`const`, `enum`) about 4 ns, a
 * node turned into canonical text (`uniqueItems` on long arrays) about 70 ns. Rounded so that a unit
 * of any of them costs at most what an evaluation does.
 */
export const CHARS_PER_UNIT = 16;
/** Nodes of a structural comparison (jsonEqual) per unit; canonical text costs a unit per node. */
export const COMPARED_NODES_PER_UNIT = 16;

/** A budget that never runs out, for callers outside a request (tests, tools). */
export const UNLIMITED_BUDGET: WorkBudget = { spend: () => {} };
