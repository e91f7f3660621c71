import type { Config, Env } from "./config";
import type { Services } from "./services";

export type { Env };

/**
 * What the app-wide middleware puts on `c.var` for every handler. Route middleware adds its own,
 * typed by the variables it exports (`AuthVariables`, `AdmissionVariables`, `AdminVariables`).
 * Read them with `c.get("name")`, typed the same: Hono's `c.var` getter builds an object of every
 * variable on each access (about 2% of a validate call's CPU in the bench profile).
 */
export interface Variables {
  /** Set by `requestId`. */
  requestId: string;
  /** Set once the configuration loads (every route but the configuration-free ones). */
  config: Config;
  services: Services;
  /** The authenticated subject, once auth has run; logged with the request. */
  subject?: string;
}

export interface AppBindings {
  Bindings: Env;
  Variables: Variables;
}

/** The bindings of a middleware that sets `Set` on `c.var` (and may read what earlier ones set). */
export interface BindingsWith<Set extends object> {
  Bindings: Env;
  Variables: Variables & Set;
}
