import type { OpenAPIHono } from "@hono/zod-openapi";
import { API_VERSION } from "../api-version";
import type { AppBindings } from "../env";

const API_INFO = {
  title: "Schema Meter API",
  version: API_VERSION,
  description:
    "Metered JSON Schema validation and enrichment at the edge. Errors are RFC 9457 problem+json with a stable `code` and the `request_id`.",
};

const SECURITY_SCHEMES = {
  bearerToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A token from POST /v1/token (optional): verified without any lookup; it carries the tier and lives TOKEN_TTL_SECONDS",
  },
  apiKey: {
    type: "http",
    scheme: "bearer",
    description:
      "The API key itself (sm_…), accepted on every protected route: resolved in the same single Redis round trip as admission",
  },
  adminToken: { type: "http", scheme: "bearer", description: "The operator's ADMIN_TOKEN" },
} as const;

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

/** `post` + `/admin/usage-batches/{id}/requeue` → `postAdminUsageBatchesIdRequeue`. */
const operationIdOf = (method: string, path: string) =>
  `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, next?: string) => (next ?? "").toUpperCase())}`;

/**
 * The OpenAPI 3.1 document (whose Schema Object is JSON Schema 2020-12) of every route declared on
 * `app` with `.openapi(route, handler)`, the one `Problem` schema under components, the security
 * schemes, and an operationId per operation derived from its method and path.
 */
export function buildOpenApiDocument(app: OpenAPIHono<AppBindings>) {
  const generated = app.getOpenAPI31Document({ openapi: "3.1.0", info: API_INFO, servers: [{ url: "/" }] });
  for (const [path, item] of Object.entries(generated.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) operation.operationId ??= operationIdOf(method, path);
    }
  }
  return {
    ...generated,
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    components: { ...generated.components, securitySchemes: SECURITY_SCHEMES },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
