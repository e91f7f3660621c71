/**
 * What a Stripe answer to one meter event means for its batch. Pure, so every branch is unit tested.
 *
 * - accepted: Stripe has the event.
 * - already_accepted: 400 "An event already exists with identifier ...": an earlier attempt of this
 *   same batch got through (its answer was lost, or the run died before recording it). Since the
 *   identifier is the batch's own, this is success, not a conflict.
 * - retry: timeouts, connection failures, 5xx, 429 (with Retry-After), 409 and auth failures (a bad
 *   key is a deployment problem, not the batch's fault). Retried on a later run; counts against the
 *   circuit breaker except 429, which only pauses the run.
 * - rejected: any other 4xx (unknown customer, timestamp too old, invalid value): permanent; the
 *   batch is dead-lettered with the reason.
 */

/** The parts of a Stripe SDK error (StripeError) this needs; duck-typed so tests need no SDK. */
export interface StripeErrorLike {
  statusCode?: number;
  type?: string;
  code?: string;
  message?: string;
  headers?: Record<string, string | string[] | undefined>;
}

export type MeterOutcome =
  | { kind: "accepted" }
  | { kind: "already_accepted" }
  | {
      kind: "retry";
      reason: string;
      retryAfterSeconds: number | null;
      rateLimited: boolean;
      breakerFailure: boolean;
    }
  | { kind: "rejected"; reason: string };

const DUPLICATE_IDENTIFIER = /an event already exists with identifier/i;

function header(error: StripeErrorLike, name: string): string | undefined {
  const value = error.headers?.[name] ?? error.headers?.[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Seconds from a Retry-After header (delta seconds or HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(value: string | undefined, nowMs = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Classifies a thrown Stripe SDK error (or anything else thrown while sending). */
export function classifyMeterError(thrown: unknown): MeterOutcome {
  const error: StripeErrorLike =
    typeof thrown === "object" && thrown !== null ? (thrown as StripeErrorLike) : {};
  const status = typeof error.statusCode === "number" ? error.statusCode : undefined;
  const message = (error.message ?? String(thrown)).slice(0, 300);
  const label = [status ?? "no response", error.code ?? error.type].filter(Boolean).join(" ");
  const reason = `${label}: ${message}`;
  if (status === undefined || status >= 500 || status === 408) {
    return { kind: "retry", reason, retryAfterSeconds: null, rateLimited: false, breakerFailure: true };
  }
  if (status === 429) {
    return {
      kind: "retry",
      reason,
      retryAfterSeconds: retryAfterSeconds(header(error, "retry-after")),
      rateLimited: true,
      breakerFailure: false,
    };
  }
  if (status === 400 && DUPLICATE_IDENTIFIER.test(message)) return { kind: "already_accepted" };
  if (status === 401 || status === 403 || status === 409) {
    return { kind: "retry", reason, retryAfterSeconds: null, rateLimited: false, breakerFailure: true };
  }
  return { kind: "rejected", reason };
}
