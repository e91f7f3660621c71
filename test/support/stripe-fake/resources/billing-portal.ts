/** `POST /v1/billing_portal/sessions`: a short-lived link to the customer portal. */
import { newId } from "../ids";
import { portalSessionObject } from "../objects/billing";
import { optionalString, requiredString } from "../params";
import type { ApiHandler } from "../state";
import { requireCustomer } from "./customers";

export const createPortalSession: ApiHandler = (ctx, { params, request }) => {
  const customer = requiredString(params, "customer");
  requireCustomer(ctx, customer, "customer", 400);
  const id = newId("bps_");
  const session = portalSessionObject({
    id,
    created: ctx.clock.nowSeconds(),
    customer,
    returnUrl: optionalString(params, "return_url") ?? null,
    url: `${ctx.baseUrl()}/billing_portal/session/${id}`,
    configuration: optionalString(params, "configuration") ?? "bpc_fake_default",
  });
  ctx.store.portalSessions.set(id, session);
  ctx.emit("billing_portal.session.created", session, { request });
  return session;
};
