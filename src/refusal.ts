import type { ErrorCode } from "./errors";
import type { RateLimitState } from "./metering/rate-limit-headers";

/** What a refused client needs to know besides the reason: when to retry, its rate-limit state. */
export interface RefusalContext {
  /** Seconds to wait before retrying (the API's `Retry-After`). */
  retryAfterSeconds?: number;
  /** The rate-limit policy and state in force (the API's RateLimit headers). */
  rateLimit?: RateLimitState;
  /** Extra members of the problem body, e.g. the setting names of a misconfiguration. */
  extensions?: Record<string, unknown>;
  /** The underlying failure, for the operator's log only. */
  cause?: unknown;
}

/**
 * A refusal by domain code (access, metering, billing): a stable reason, the API error code of the
 * same name, with a detail safe to show the client. Domain modules throw this, never an HTTP error;
 * the app's `toApiError` is the one place that turns it into a status, headers and a problem body.
 */
export class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly context: RefusalContext = {},
  ) {
    super(detail, { cause: context.cause });
    this.name = "Refusal";
  }
}
