import { createMiddleware } from "hono/factory";
import { authenticateBearer } from "../../access/token-service";
import type { AccessClaims } from "../../access/tokens";
import type { BindingsWith } from "../../env";

/** What `requireToken` puts on `c.var`. */
export interface AuthVariables {
  /** The verified token's claims. */
  auth: AccessClaims;
  /** The account id (`auth.sub`), logged with the request. */
  subject: string;
}

export interface RequireTokenOptions {
  /** Clock, for tests. Default the current time. */
  now?: () => Date;
}

/**
 * Verifies `Authorization: Bearer <token>` locally (no network) and puts the claims on `c.var.auth`.
 * 401 AUTH_REQUIRED, TOKEN_EXPIRED or TOKEN_INVALID, each with a `WWW-Authenticate: Bearer` challenge.
 */
export const requireToken = (options: RequireTokenOptions = {}) =>
  createMiddleware<BindingsWith<AuthVariables>>(async (c, next) => {
    const claims = await authenticateBearer(c.get("config"), c.req.header("Authorization"), options.now?.());
    c.set("auth", claims);
    c.set("subject", claims.sub);
    await next();
  });
