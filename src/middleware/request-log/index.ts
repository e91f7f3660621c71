import { createMiddleware } from "hono/factory";
import type { AppBindings } from "../../env";
import { log } from "../../lib/log";
import { countResponse } from "../../observability/request-counters";

/** One JSON line per request: method, route, status, latency, request id and subject when known. */
export const requestLog = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    countResponse(status);
    log(status >= 500 ? "error" : status >= 400 ? "warn" : "info", "request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      route: c.req.routePath,
      path: c.req.path,
      status,
      latency_ms: Math.round((performance.now() - started) * 10) / 10,
      subject: c.get("subject"),
    });
  });
