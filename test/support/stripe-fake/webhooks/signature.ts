import { createHmac } from "node:crypto";

/**
 * The `Stripe-Signature` header, as Stripe computes it: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>" keyed with the endpoint's whole signing secret>` (Stripe: verify webhook
 * signatures manually). Verifiers compare `v1` and reject a `t` outside their tolerance.
 */
export function stripeSignatureHeader(payload: string, secret: string, timestampSeconds: number): string {
  const signature = createHmac("sha256", secret)
    .update(`${timestampSeconds}.${payload}`, "utf8")
    .digest("hex");
  return `t=${timestampSeconds},v1=${signature}`;
}
