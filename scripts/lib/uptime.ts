/**
 * The uptime checks an external monitor runs against a deployment (docs/deploy.md, "Uptime
 * monitor"): what each URL must answer. Used by `npm run monitor`.
 */

export interface UptimeCheck {
  path: "/health" | "/health/ready";
  /** The `status` field the JSON body must carry. */
  status: "ok" | "ready";
}

export const UPTIME_CHECKS: readonly UptimeCheck[] = [
  { path: "/health", status: "ok" },
  { path: "/health/ready", status: "ready" },
];

export interface UptimeResult {
  url: string;
  ok: boolean;
  /** `200 ready`, or why it failed: `503 DEPENDENCY_UNAVAILABLE: Not ready: redis unavailable`, `timeout`. */
  summary: string;
  latencyMs: number;
}

/** Runs one check; never throws (a network error or timeout is a failed check). */
export async function runCheck(base: string, check: UptimeCheck, timeoutMs: number): Promise<UptimeResult> {
  const url = `${base.replace(/\/+$/, "")}${check.path}`;
  const started = performance.now();
  const done = (ok: boolean, summary: string): UptimeResult => ({
    url,
    ok,
    summary,
    latencyMs: Math.round(performance.now() - started),
  });
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return done(false, `${response.status}, body is not JSON`);
    }
    if (response.status === 200 && body.status === check.status) return done(true, `200 ${check.status}`);
    const reason = [body.code, body.detail].filter((part) => typeof part === "string").join(": ");
    return done(false, `${response.status}${reason ? ` ${reason}` : `, status ${String(body.status)}`}`);
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    return done(
      false,
      name === "TimeoutError" ? `timeout after ${timeoutMs} ms` : `unreachable (${String(error)})`,
    );
  }
}

export function checkDeployment(base: string, timeoutMs: number): Promise<UptimeResult[]> {
  return Promise.all(UPTIME_CHECKS.map((check) => runCheck(base, check, timeoutMs)));
}
