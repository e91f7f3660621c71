import type { AdmittedRequest } from "./admission/admit";
import type { AccessClaims } from "./auth/tokens";
import type { Config, Env } from "./config";
import type { Services } from "./services";

export type { Env };

/** What middleware puts on `c.var` for handlers. */
export interface Variables {
  requestId: string;
  config: Config;
  services: Services;
  /** The authenticated subject, once auth has run; logged with the request. */
  subject?: string;
  /** The verified token's claims, on protected routes (set by `requireToken`). */
  auth?: AccessClaims;
  /** The admitted usage of this request (set by `admitUsage`). */
  admission?: AdmittedRequest;
}

export interface AppBindings {
  Bindings: Env;
  Variables: Variables;
}
