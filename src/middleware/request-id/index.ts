import { createMiddleware } from "hono/factory";
import type { AppBindings } from "../../env";

export const REQUEST_ID_HEADER = "X-Request-Id";

// Accept a caller's id only if it is short and plain, so it is safe to echo and log.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the request id from `X-Request-Id` when acceptable, else generates one; echoes it. */
export const requestId = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const offered = c.req.header(REQUEST_ID_HEADER);
    const id =
      offered && ACCEPTABLE_ID.test(offered) ? offered : `req_${crypto.randomUUID().replaceAll("-", "")}`;
    c.set("requestId", id);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
  });
