/** What a refused admission answers: its refusal (status, detail, headers) and RateLimit headers. */
import { Refusal } from "../refusal";
import type { Admission, AdmittedRequest } from "./admit";
import { idempotencyRefusal } from "./idempotency";
import { rateLimitHeaders } from "./rate-limit-headers";

/** The RateLimit headers of any admission outcome that has a policy. */
export function admissionHeaders(admission: Admission): Record<string, string> {
  if (admission.outcome === "idempotency_refused") return rateLimitHeaders(admission.rateLimit);
  return admission.outcome === "revoked" ? {} : rateLimitHeaders(admission.rateLimit);
}

/** The refusal of a refused admission: RATE_LIMITED, TOKEN_REVOKED or DEPENDENCY_UNAVAILABLE. */
export function admissionRefusal(
  admission: Exclude<Admission, AdmittedRequest | { outcome: "replayed" }>,
): Refusal {
  switch (admission.outcome) {
    case "idempotency_refused":
      return idempotencyRefusal(admission.reason, { rateLimit: admission.rateLimit });
    case "rate_limited":
      return new Refusal(
        "RATE_LIMITED",
        `The ${admission.rateLimit.policy} tier allows ${admission.rateLimit.limit} requests per ${admission.rateLimit.windowSeconds} s; retry in ${admission.retryAfterSeconds} s.`,
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
