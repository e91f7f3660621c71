import { createMiddleware } from "hono/factory";
import { authenticateBearer } from "../../auth/token-service";
import type { AppBindings } from "../../env";

/**
 * Verifies `Authorization: Bearer <token>` locally (no network) and puts the claims on `c.get("auth")`.
 * 401 AUTH_REQUIRED, TOKEN_EXPIRED or TOKEN_INVALID, each with a `WWW-Authenticate: Bearer` challenge.
 */
export const requireToken = (options: { now?: () => Date } = {}) =>
  createMiddleware<AppBindings>(async (c, next) => {
    const claims = await authenticateBearer(c.get("config"), c.req.header("Authorization"), options.now?.());
    c.set("auth", claims);
    c.set("subject", claims.sub);
    await next();
  });
