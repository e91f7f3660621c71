/**
 * The request's execution context, for work that must outlive the response (`waitUntil`). A bare
 * `app.request` in a test has none: there the work runs before the response is returned.
 */
import type { Context } from "hono";

/** The request's ExecutionContext; undefined where there is none (tests' `app.request`). */
export function executionContextOf(c: Context): ExecutionContext | undefined {
  try {
    // The runtime's own ExecutionContext, of which Hono types a part.
    return c.executionCtx as ExecutionContext;
  } catch {
    return undefined;
  }
}

/** The request's `waitUntil`; undefined where there is no execution context. */
export function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  const ctx = executionContextOf(c);
  return ctx && ((promise) => ctx.waitUntil(promise));
}

/** Runs `work` after the response when the runtime allows (`waitUntil`), else before returning. */
export async function afterResponse(c: Context, work: Promise<unknown>): Promise<void> {
  const waitUntil = waitUntilOf(c);
  if (waitUntil) waitUntil(work);
  else await work;
}
