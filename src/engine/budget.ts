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

/** A budget that never runs out, for callers outside a request (tests, tools). */
export const UNLIMITED_BUDGET: WorkBudget = { spend: () => {} };
