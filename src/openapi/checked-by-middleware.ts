/**
 * Request parts a route's own middleware checks, so that zod-openapi need not check them again.
 *
 * zod-openapi adds a validator for each part of `request` a route declares, run after the route's
 * middleware. Where our middleware has already checked a part with the same schema (the body, by
 * `jsonBody`, before admission), that second check parsed and checked the same body again: about a
 * tenth of a validate call's CPU. The router (`newRouter`) leaves such parts out of zod-openapi's
 * validators and keeps them in the OpenAPI document, which is built from the same declaration.
 */
import type { MiddlewareHandler } from "hono";

const bodySchemas = new WeakMap<MiddlewareHandler, unknown>();
const documentedOnly = new WeakSet<object>();

/** Records that `middleware` checks the JSON body against `schema` (and puts it on `c.req.valid("json")`). */
export function checksJsonBody<M extends MiddlewareHandler>(middleware: M, schema: unknown): M {
  bodySchemas.set(middleware, schema);
  return middleware;
}

/** The schema `middleware` checks the JSON body against, if it is a body check. */
export function jsonBodySchemaOf(middleware: unknown): unknown {
  return typeof middleware === "function" ? bodySchemas.get(middleware as MiddlewareHandler) : undefined;
}

/**
 * Marks a request-part schema as documentation only: the part is checked elsewhere (e.g. the
 * Idempotency-Key header, by admission, which refuses a malformed key with its own code).
 */
export function checkedElsewhere<T extends object>(schema: T): T {
  documentedOnly.add(schema);
  return schema;
}

/** Whether `schema` was marked with `checkedElsewhere`. */
export function isCheckedElsewhere(schema: unknown): boolean {
  return typeof schema === "object" && schema !== null && documentedOnly.has(schema);
}
