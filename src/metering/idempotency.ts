/**
 * Idempotency-Key on billed calls (as Stripe's API has it): a retry with the same key and the same
 * body within 24 h is answered with the first call's response and billed once. The check is part of
 * the one admission round trip (admit-usage); keeping the response is one more Redis request after
 * it is sent (complete-idempotent-call, in waitUntil).
 */
import { sha256Hex } from "../lib/sha256";
import { Refusal } from "../refusal";
import type { IdempotencyClaim, StoredResponse } from "./usage-record";

/** How long a done call's response is kept, from its completion: 24 h, as Stripe keeps keys. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * How long a call in flight holds its key (a duplicate meanwhile is 409 IDEMPOTENCY_KEY_IN_USE).
 * Longer than any call can take; if the response could not be kept (Redis gone after admission),
 * the key is free again after this, and a retry is then a new, billed call.
 */
export const IDEMPOTENCY_PENDING_TTL_MS = 120_000;
/** Responses up to this many bytes are kept whole; a larger one keeps only its status and units. */
export const IDEMPOTENCY_MAX_RESPONSE_BYTES = 64 * 1024;
/** Stripe's limit on the key's length. */
const MAX_KEY_LENGTH = 255;

/**
 * The claim of a call's Idempotency-Key header (null without one): the key's hash and the request's
 * fingerprint (method, path and body text, so a retry must send the same bytes). A key that is
 * empty, longer than 255 characters or not printable ASCII is refused (400 IDEMPOTENCY_KEY_INVALID).
 */
export async function idempotencyClaimOf(
  header: string | undefined,
  request: { method: string; path: string; body: string },
): Promise<IdempotencyClaim | null> {
  if (header === undefined) return null;
  if (header.length === 0 || header.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(header)) {
    throw new Refusal(
      "IDEMPOTENCY_KEY_INVALID",
      `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID; this one is ${header.length} characters${/^[\x20-\x7e]*$/.test(header) ? "" : " with others"}.`,
    );
  }
  const [keyHash, fingerprint] = await Promise.all([
    sha256Hex(header),
    sha256Hex(`${request.method} ${request.path}\n${request.body}`),
  ]);
  return { keyHash, fingerprint };
}

/** What to keep of a response for its retries: the whole body up to the cap, else its status. */
export function storedResponseOf(status: number, body: string, units: number): StoredResponse {
  const stored = new TextEncoder().encode(body).byteLength <= IDEMPOTENCY_MAX_RESPONSE_BYTES;
  return { status, stored, body: stored ? body : "", units };
}

/** The body of a replay whose response was over the cap: its status and units, saying so. */
export function unstoredReplayBody(response: StoredResponse) {
  return {
    idempotent_replayed: true,
    response_stored: false,
    status: response.status,
    units: response.units,
    detail: `The first call with this Idempotency-Key was answered ${response.status} and billed ${response.units} unit(s); its response was over ${IDEMPOTENCY_MAX_RESPONSE_BYTES} bytes, so only its status was kept. Send a new Idempotency-Key to validate again (billed again).`,
  };
}

/** The refusal of a key reused with another body (422) or still in flight (409). */
export function idempotencyRefusal(reason: "reused" | "in_use", context: Refusal["context"]): Refusal {
  return reason === "reused"
    ? new Refusal(
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used within 24 h for a request with another body or path; send the same request to retry it, or a new key for a new request. Not billed.",
        context,
      )
    : new Refusal(
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is still being answered; retry after Retry-After to get its response. Not billed.",
        { ...context, retryAfterSeconds: 1 },
      );
}
