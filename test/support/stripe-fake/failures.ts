/**
 * Injected outages: the next `count` matching calls fail before (or, for
 * "timeout-after-processing", after) Stripe would run them. Rules are used in the order given.
 */
export type FailureMode =
  | { status: 500 | 429 | 503; retryAfterSeconds?: number }
  /** Never answers (the request is not processed) until the client gives up or the fake closes. */
  | "timeout"
  /** Processes the request (e.g. accepts the meter event) but never answers: a lost response. */
  | "timeout-after-processing";

interface FailureRule {
  remaining: number;
  mode: FailureMode;
  pathPrefix: string;
}

export class FailureInjector {
  private rules: FailureRule[] = [];

  add(count: number, mode: FailureMode, pathPrefix = "/v1/"): void {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`failNext count must be a positive integer: ${count}`);
    this.rules.push({ remaining: count, mode, pathPrefix });
  }

  /** The failure for this call, if a rule matches; consumes one use of that rule. */
  take(path: string): FailureMode | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && path.startsWith(r.pathPrefix));
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.mode;
  }

  /** Failures still queued, summed over rules. */
  pending(): number {
    return this.rules.reduce((sum, rule) => sum + rule.remaining, 0);
  }

  clear(): void {
    this.rules = [];
  }
}

/** Stripe's bodies for these statuses: `rate_limit` on 429, `api_error` on 5xx. */
export function injectedFailureBody(status: 500 | 429 | 503) {
  if (status === 429) {
    return {
      error: {
        type: "invalid_request_error",
        code: "rate_limit",
        doc_url: "https://stripe.com/docs/error-codes/rate-limit",
        message:
          "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
      },
    };
  }
  return {
    error: {
      type: "api_error",
      message:
        status === 503
          ? "Stripe is temporarily unavailable. Please retry the request."
          : "An unknown error occurred. Please retry the request.",
    },
  };
}
