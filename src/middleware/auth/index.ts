import { createMiddleware } from "hono/factory";
import { authenticateCredential, type Credential } from "../../access/token-service";
import type { AccessClaims } from "../../access/tokens";
import type { BindingsWith } from "../../env";

/** Who is calling, as a handler sees it: from the token's claims, or from the API key's entry. */
export type Caller = Pick<AccessClaims, "sub" | "tier" | "cus" | "akid">;

/** What `requireCredential` puts on `c.var`. */
export interface AuthVariables {
  /** The credential sent: a verified token, or an API key (by hash) that admission resolves. */
  credential: Credential;
  /**
   * The caller: set here for a token; for an API key by `admitUsage`, which resolves it (every
   * protected route runs both, so handlers can rely on it).
   */
  auth: Caller;
  /** The account id (`auth.sub`), logged with the request, once known. */
  subject?: string;
}

export interface RequireCredentialOptions {
  /** Clock, for tests. Default the current time. */
  now?: () => Date;
}

/**
 * `Authorization: Bearer <api key or token>`: a token is verified locally (no network) and its
 * claims put on `c.var.auth`; an API key is recognised by its shape and hashed, for `admitUsage` to
 * resolve in its one Redis round trip. 401 AUTH_REQUIRED (saying what to send), API_KEY_INVALID,
 * TOKEN_EXPIRED or TOKEN_INVALID, each with a `WWW-Authenticate: Bearer` challenge.
 */
export const requireCredential = (options: RequireCredentialOptions = {}) =>
  createMiddleware<BindingsWith<AuthVariables>>(async (c, next) => {
    const credential = await authenticateCredential(
      c.get("config"),
      c.req.header("Authorization"),
      options.now?.(),
    );
    c.set("credential", credential);
    if (credential.kind === "token") {
      c.set("auth", credential.claims);
      c.set("subject", credential.claims.sub);
    }
    await next();
  });

/** The former name of `requireCredential` (it accepted tokens only). */
export const requireToken = requireCredential;
