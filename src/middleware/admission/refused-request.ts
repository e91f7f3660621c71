import { createMiddleware } from "hono/factory";
import type { BindingsWith } from "../../env";
import { ApiError, type ErrorCode } from "../../errors";
import { type AdmissionVariables, admitUsage } from "./index";

/** Refusals of a request's form, checked before admission on the routes that parse a body. */
const FORM_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  "BAD_REQUEST",
  "MALFORMED_JSON",
  "UNSUPPORTED_MEDIA_TYPE",
]);

/**
 * A request refused for its form (400 BAD_REQUEST or MALFORMED_JSON, 415) is rate limited as one
 * request, never billed: its body was read and parsed, which is work the caller caused, so
 * malformed requests cannot be sent without limit. Put it after `requireCredential` and before the
 * body checks. The refusal is counted through the same admission as any call (units 0: a unit of
 * the window, nothing billed) and keeps its status with the RateLimit headers; over the limit it
 * becomes the 429, and a credential the admission refuses (revoked, unknown key) its 401.
 */
export const countRefusedRequest = () =>
  createMiddleware<BindingsWith<AdmissionVariables>>(async (c, next) => {
    await next();
    const refusal = c.error;
    if (!(refusal instanceof ApiError) || !FORM_REFUSALS.has(refusal.code)) return;
    if (c.get("admission")) return; // refused after admission: already counted
    // Admission's own refusal (429, 401) is thrown from here and rendered in place of the 400.
    await admitUsage({ units: 0 })(c, async () => {});
  });
