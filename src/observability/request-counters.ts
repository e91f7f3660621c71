/**
 * Requests this isolate answered, by status code, since it started: what `GET /admin/metrics`
 * shows next to the admission counters. Per isolate (Workers run many), so a sample of the
 * fleet's traffic: the rate (5xx / all) is the figure to read, not the totals. One increment per
 * request, in the request log middleware.
 */

const byStatus = new Map<number, number>();
const startedAt = new Date().toISOString();

export function countResponse(status: number): void {
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
}

export interface RequestCounts {
  since: string;
  total: number;
  /** Status code to count, e.g. `{"200": 120, "401": 3, "503": 1}`. */
  by_status: Record<string, number>;
  client_errors: number;
  server_errors: number;
  /** server_errors / total; the alert is above 0.001 (docs/deploy.md, "Error tracking"). */
  server_error_rate: number;
}

export function requestCounts(): RequestCounts {
  let total = 0;
  let clientErrors = 0;
  let serverErrors = 0;
  const counts: Record<string, number> = {};
  for (const [status, count] of [...byStatus].sort(([a], [b]) => a - b)) {
    counts[String(status)] = count;
    total += count;
    if (status >= 500) serverErrors += count;
    else if (status >= 400) clientErrors += count;
  }
  return {
    since: startedAt,
    total,
    by_status: counts,
    client_errors: clientErrors,
    server_errors: serverErrors,
    server_error_rate: total === 0 ? 0 : Math.round((serverErrors / total) * 1e6) / 1e6,
  };
}
