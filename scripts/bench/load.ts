/**
 * One autocannon run against one route, reduced to the figures the bench prints. Requests are fired
 * from worker threads (default 1) so this process's event loop stays free for the local bridges
 * (Redis REST, PostgREST) that the Worker calls while under load.
 */
import autocannon from "autocannon";

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds. */
  duration: number;
  workers: number;
  signal?: AbortSignal;
}

export interface LoadFigures {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts (no HTTP status at all). */
  errors: number;
  statusCounts: Record<string, number>;
  durationSeconds: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadFigures> {
  const instance = autocannon({
    url: options.url,
    method: options.method ?? "GET",
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.duration,
    pipelining: 1,
    timeout: 10,
    ...(options.workers > 0 ? { workers: options.workers } : {}),
  });
  const onAbort = () => instance.stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await instance;
    const statusCounts = Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, stat]) => [code, stat.count]),
    );
    const completed = result.latency.totalCount ?? result["2xx"] + result.non2xx;
    const durationSeconds = result.duration > 0 ? result.duration : options.duration;
    return {
      requests: completed,
      requestsPerSecond: completed / durationSeconds,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      ok: result["2xx"],
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      statusCounts,
      durationSeconds,
    };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}
