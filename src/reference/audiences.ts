import type { OpenApiDocument } from "../openapi/document";

/** Who a part of the API is for: customers (the reference at /docs) or the operator (/docs/operator). */
export type Audience = "customer" | "operator";

/** Operations with this tag are the operator's (ADMIN_TOKEN routes, health probes, Stripe's webhook). */
export const OPERATOR_TAG = "Operations";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

type Operation = { tags?: string[]; security?: Record<string, string[]>[] };

const audienceOf = (operation: Operation): Audience =>
  operation.tags?.includes(OPERATOR_TAG) ? "operator" : "customer";

/**
 * The part of the full document (every declared route) meant for `audience`: its operations, and
 * only the security schemes they use, so a customer's reference and generated client never show
 * operator routes or the admin token.
 */
export function documentFor(document: OpenApiDocument, audience: Audience): OpenApiDocument {
  const paths: NonNullable<OpenApiDocument["paths"]> = {};
  const schemesUsed = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const kept = { ...item };
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      if (audienceOf(operation) !== audience) {
        delete kept[method];
        continue;
      }
      for (const requirement of operation.security ?? []) {
        for (const scheme of Object.keys(requirement)) schemesUsed.add(scheme);
      }
    }
    if (METHODS.some((method) => kept[method])) paths[path] = kept;
  }
  const securitySchemes = Object.fromEntries(
    Object.entries(document.components.securitySchemes).filter(([name]) => schemesUsed.has(name)),
  ) as OpenApiDocument["components"]["securitySchemes"];
  return { ...document, paths, components: { ...document.components, securitySchemes } };
}
