import { PostgrestClient } from "@supabase/postgrest-js";

/** An RPC failure: PostgREST's error code (or a transport failure) and the HTTP status it came with. */
export class DatabaseError extends Error {
  constructor(
    readonly fn: string,
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`rpc ${fn} failed (${code}, HTTP ${status}): ${message}`);
    this.name = "DatabaseError";
  }
}

/**
 * Whether a failed call means Postgres (or Supabase in front of it) could not be reached or could
 * not serve, rather than refusing what was asked: no answer (status 0: refused, aborted, timed
 * out), a gateway error, PostgREST's connection errors (PGRST000-003), or a server-side SQLSTATE of
 * connection (08), resources (53), operator intervention (57) or system (58) class. Those are
 * worth a retry; anything else is a bug to look at.
 */
export function isDatabaseUnavailable(error: unknown): error is DatabaseError {
  if (!(error instanceof DatabaseError)) return false;
  if (error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504) return true;
  return /^(PGRST00[0-3]|08|53|57|58|FETCH_ERROR$)/.test(error.code);
}

/**
 * What the Worker needs from Postgres. All SQL lives in `migrations/` as functions; the Worker
 * only ever calls them by name, through Supabase's PostgREST `rpc` endpoint.
 */
export interface DatabaseAdapter {
  rpc<T>(fn: string, args?: Record<string, unknown>): Promise<T>;
}

export interface SupabaseOptions {
  url: string;
  serviceRoleKey: string;
  timeoutMs: number;
}

/**
 * The database adapter on Supabase's PostgREST client, `@supabase/postgrest-js`: the part of
 * supabase-js that `rpc` is (supabase-js builds the same client, with the same `apikey` and
 * bearer headers), without the auth, realtime, storage and functions clients it would add to
 * every isolate's bundle (about 180 KiB minified) for calls the Worker never makes.
 */
export function createSupabaseAdapter({ url, serviceRoleKey, timeoutMs }: SupabaseOptions): DatabaseAdapter {
  const client = new PostgrestClient(new URL("rest/v1", url.endsWith("/") ? url : `${url}/`).href, {
    headers: { apikey: serviceRoleKey, Authorization: `Bearer ${serviceRoleKey}` },
  });
  return {
    async rpc<T>(fn: string, args: Record<string, unknown> = {}) {
      const { data, error, status } = await client.rpc(fn, args).abortSignal(AbortSignal.timeout(timeoutMs));
      if (error) {
        // postgrest-js reports an aborted or failed fetch as an error with status 0 or similar.
        throw new DatabaseError(fn, error.code || "FETCH_ERROR", status, error.message);
      }
      return data as T;
    },
  };
}
