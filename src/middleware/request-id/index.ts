import { createMiddleware } from "hono/factory";
import type { BindingsWith } from "../../env";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** What `requestId` puts on `c.var` (every route has it: the middleware is app-wide). */
export interface RequestIdVariables {
  requestId: string;
}

// Accept a caller's id only if it is short and plain, so it is safe to echo and log. Hono's own
// `hono/request-id` accepts only [A-Za-z0-9_=-] (clients send ids with `.` and `:`, e.g. trace
// ids) and sets the header before the handler, so a response built by `onError` goes out without it.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the request id from `X-Request-Id` when acceptable, else generates `req_<32 hex>`; echoes it. */
export const requestId = () =>
  createMiddleware<BindingsWith<RequestIdVariables>>(async (c, next) => {
    const offered = c.req.header(REQUEST_ID_HEADER);
    const id =
      offered && ACCEPTABLE_ID.test(offered) ? offered : `req_${crypto.randomUUID().replaceAll("-", "")}`;
    c.set("requestId", id);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
  });
