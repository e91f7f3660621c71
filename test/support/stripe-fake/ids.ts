import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomBase62(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/**
 * Stripe-looking ids: the documented prefix (`cus_`, `price_`, `evt_`, `mtr_test_`, `cs_test_`...)
 * then random base62, so code that checks prefixes behaves as it would against Stripe.
 */
export function newId(prefix: string, length = 24): string {
  return `${prefix}${randomBase62(length)}`;
}

/** `req_` ids as Stripe returns in the `Request-Id` header (14 characters after the prefix). */
export function newRequestId(): string {
  return newId("req_", 14);
}

/** Stripe generates an identifier when a meter event comes without one; any unique string will do. */
export function newMeterEventIdentifier(): string {
  return newId("mev_gen_", 20);
}

/** Per-endpoint signing secrets, shaped like Stripe's `whsec_...`. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("hex")}`;
}
