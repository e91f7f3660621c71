import { z } from "zod";

/** RFC 9457 problem details, as every error response of this API carries them. */
export const problemSchema = z
  .object({
    type: z.string().describe("URI reference identifying the problem type"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().describe("The request path"),
    code: z.string().describe("Stable machine-readable error code"),
    request_id: z.string().describe("Echoed in the X-Request-Id header; quote it in support requests"),
  })
  .loose()
  .meta({ id: "Problem" });

/** The RateLimit headers every rate-limited response carries. */
export const rateLimitHeaderDocs = {
  "RateLimit-Policy": { description: 'IETF draft syntax, e.g. `"pro";q=100;w=10`' },
  RateLimit: { description: 'IETF draft syntax, e.g. `"pro";r=57;t=3`' },
};

/** The refusals every route behind a bearer token and admission (`requireToken`, `admitUsage`) can give. */
export const bearerRefusals = {
  401: { description: "AUTH_REQUIRED, TOKEN_EXPIRED, TOKEN_INVALID or TOKEN_REVOKED", schema: problemSchema },
  429: { description: "RATE_LIMITED, with Retry-After", schema: problemSchema, headers: rateLimitHeaderDocs },
} satisfies Record<number, ResponseDoc>;

/** The refusal every operator route (ADMIN_TOKEN) can give. */
export const adminRefusals = {
  401: { description: "AUTH_REQUIRED: the admin token is missing or wrong", schema: problemSchema },
} satisfies Record<number, ResponseDoc>;

interface ResponseDoc {
  description: string;
  /** Omitted for responses without a body. */
  schema?: z.ZodType;
  contentType?: string;
  headers?: Record<string, { description: string; schema?: Record<string, unknown> }>;
}

/** The OpenAPI description of one route; each route module exports the docs of its routes. */
export interface RouteDoc {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path syntax, e.g. `/v1/keys/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Security scheme names from the document's components, e.g. `bearerToken`. */
  security?: string[];
  /** Path parameters (each `{name}` in `path`), name to description; all strings, all required. */
  pathParameters?: Record<string, string>;
  requestBody?: { schema: z.ZodType; description?: string; example?: unknown };
  responses: Record<number, ResponseDoc>;
}

const jsonSchemaOf = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });

function responseObject({ description, schema, contentType, headers }: ResponseDoc, status: number) {
  const type = contentType ?? (status >= 400 ? "application/problem+json" : "application/json");
  return {
    description,
    ...(headers && { headers }),
    ...(schema && { content: { [type]: { schema: jsonSchemaOf(schema, "output") } } }),
  };
}

/** Builds the OpenAPI 3.1 document (whose Schema Object is JSON Schema 2020-12) from route docs. */
export function buildOpenApiDocument(
  routes: RouteDoc[],
  info: { title: string; version: string; description: string },
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation = {
      summary: route.summary,
      ...(route.description && { description: route.description }),
      tags: route.tags,
      operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, next?: string) => (next ?? "").toUpperCase())}`,
      ...(route.security && { security: route.security.map((name) => ({ [name]: [] })) }),
      ...(route.pathParameters && {
        parameters: Object.entries(route.pathParameters).map(([name, description]) => ({
          name,
          in: "path",
          required: true,
          description,
          schema: { type: "string" },
        })),
      }),
      ...(route.requestBody && {
        requestBody: {
          required: true,
          ...(route.requestBody.description && { description: route.requestBody.description }),
          content: {
            "application/json": {
              schema: jsonSchemaOf(route.requestBody.schema, "input"),
              ...(route.requestBody.example !== undefined && { example: route.requestBody.example }),
            },
          },
        },
      }),
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          responseObject(response, Number(status)),
        ]),
      ),
    };
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info,
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A token from POST /v1/token",
        },
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key, exchanged for a token at POST /v1/token",
        },
        adminToken: { type: "http", scheme: "bearer", description: "The operator's ADMIN_TOKEN" },
      },
    },
  };
}
