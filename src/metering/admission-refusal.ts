/** What a refused admission answers: its refusal (status, detail, headers) and RateLimit headers. */
import { Refusal } from "../refusal";
import type { Admission, AdmittedRequest } from "./admit";
import { idempotencyRefusal } from "./idempotency";
import { rateLimitHeaders } from "./rate-limit-headers";

/** The RateLimit headers of any admission outcome that has a policy. */
export function admissionHeaders(admission: Admission): Record<string, string> {
  if (
    admission.outcome === "idempotency_refused" ||
    admission.outcome === "cost_over_limit" ||
    admission.outcome === "quota_exceeded"
  ) {
    return rateLimitHeaders(admission.rateLimit);
  }
  return admission.outcome === "revoked" ? {} : rateLimitHeaders(admission.rateLimit);
}

/** The refusal of a refused admission: RATE_LIMITED, TOKEN_REVOKED or DEPENDENCY_UNAVAILABLE. */
export function admissionRefusal(
  admission: Exclude<Admission, AdmittedRequest | { outcome: "replayed" }>,
): Refusal {
  switch (admission.outcome) {
    case "idempotency_refused":
      return idempotencyRefusal(admission.reason, { rateLimit: admission.rateLimit });
    case "cost_over_limit": {
      const { policy, limit, windowSeconds, cost } = admission.rateLimit;
      return new Refusal(
        "LIMIT_EXCEEDED",
        `This call costs ${cost} units and the ${policy} tier admits ${limit} units per ${windowSeconds} s, so it can never be admitted: send fewer documents (1 unit each, 2 with enrichment) or upgrade. Not billed.`,
        { rateLimit: admission.rateLimit, extensions: { limit: "rate_limit_cost", cost, rate_limit: limit } },
      );
    }
    case "quota_exceeded": {
      const { allowance, usedUnits, resetAtMs, retryAfterSeconds } = admission;
      const resetAt = new Date(resetAtMs).toISOString();
      const cost = admission.rateLimit.cost ?? 1;
      const what =
        allowance.kind === "cap"
          ? `your spend cap of ${allowance.units} units a month (raise or remove it with PUT or DELETE /v1/account/spend-cap)`
          : `the ${admission.rateLimit.policy} tier's quota of ${allowance.units} units a month (upgrade with POST /v1/billing/checkout for more)`;
      return new Refusal(
        "QUOTA_EXCEEDED",
        `This call costs ${cost} units and ${usedUnits} were used this month: that would pass ${what}. It resets at ${resetAt}. Not billed.`,
        {
          rateLimit: admission.rateLimit,
          retryAfterSeconds,
          extensions: {
            quota_kind: allowance.kind,
            quota: allowance.units,
            used: usedUnits,
            cost,
            reset_at: resetAt,
          },
        },
      );
    }
    case "rate_limited":
      return new Refusal(
        "RATE_LIMITED",
        `The ${admission.rateLimit.policy} tier allows ${admission.rateLimit.limit} units per ${admission.rateLimit.windowSeconds} s (a call costs its units, at least 1${(admission.rateLimit.cost ?? 1) > 1 ? `; this one ${admission.rateLimit.cost}` : ""}); retry in ${admission.retryAfterSeconds} s.`,
        { rateLimit: admission.rateLimit, retryAfterSeconds: admission.retryAfterSeconds },
      );
    case "revoked":
      return new Refusal(
        "TOKEN_REVOKED",
        admission.reason === "api_key"
          ? "The API key this token was minted from has been revoked."
          : "Access for this account has been revoked.",
      );
    case "unavailable":
      return new Refusal(
        "DEPENDENCY_UNAVAILABLE",
        admission.idempotent
          ? "Admission is temporarily unavailable, and a call with an Idempotency-Key is only answered when it can be billed once; retry shortly with the same key. Not billed."
          : "Admission is temporarily unavailable for this tier; retry shortly.",
        {
          rateLimit: admission.rateLimit,
          retryAfterSeconds: 1,
        },
      );
  }
}
