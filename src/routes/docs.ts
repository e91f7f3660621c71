import { createRoute, z } from "@hono/zod-openapi";
import { API_VERSION } from "../api-version";
import { ERROR_DOCS_PATH } from "../errors";
import type { OpenApiDocument } from "../openapi/document";
import { newRouter } from "../openapi/router";
import { OPERATOR_TAG } from "../reference/audiences";
import { referenceDocument } from "../reference/documents";
import { renderErrorPage } from "../reference/error-page";
import { referencePage } from "../reference/reference-page";

const jsonDocument = {
  200: {
    description: "The OpenAPI document",
    content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
  },
};
const htmlPage = { 200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } } };

const openApiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This API's OpenAPI 3.1 document (customer routes)",
  description: "What the reference at /docs renders and clients are generated from.",
  tags: ["Documentation"],
  responses: jsonDocument,
});

const operatorOpenApiRoute = createRoute({
  method: "get",
  path: "/openapi/operator.json",
  summary: "The operator routes' OpenAPI 3.1 document",
  tags: [OPERATOR_TAG],
  responses: jsonDocument,
});

const indexResponse = z.object({
  name: z.string(),
  version: z.string().describe("The API version (Schema-Meter-Version)"),
  docs: z.string().describe("The interactive API reference, with a quick start"),
  openapi: z.string().describe("The OpenAPI 3.1 document"),
  errors: z.string().describe("Every error code, with its cause and fix"),
});

const indexRoute = createRoute({
  method: "get",
  path: "/",
  summary: "Where to start: links to the documentation and the OpenAPI document",
  tags: ["Documentation"],
  responses: {
    200: {
      description: "Links",
      content: { "application/json": { schema: indexResponse } },
    },
  },
});

const docsRoute = createRoute({
  method: "get",
  path: "/docs",
  summary: "The interactive API reference, with a quick start",
  tags: ["Documentation"],
  responses: htmlPage,
});

const operatorDocsRoute = createRoute({
  method: "get",
  path: "/docs/operator",
  summary: "The operator routes' reference",
  tags: [OPERATOR_TAG],
  responses: htmlPage,
});

const errorsRoute = createRoute({
  method: "get",
  path: ERROR_DOCS_PATH,
  summary: "Every error code, with its cause and fix (where each problem type links)",
  tags: ["Documentation"],
  responses: htmlPage,
});

/**
 * `/`, the OpenAPI documents and the reference pages, all from the document of every declared
 * route (built once, on first use): customers' at /openapi.json and /docs, the operator's at
 * /openapi/operator.json and /docs/operator, the error reference at /docs/errors.
 */
export function docsRoutes(documentOf: () => OpenApiDocument) {
  let customer: OpenApiDocument | undefined;
  let operator: OpenApiDocument | undefined;
  let errorPage: ReturnType<typeof renderErrorPage> | undefined;
  const customerReference = referencePage({
    documentUrl: "/openapi.json",
    title: "Schema Meter API reference",
  });
  const operatorReference = referencePage({
    documentUrl: "/openapi/operator.json",
    title: "Schema Meter operator reference",
  });
  return newRouter()
    .openapi(indexRoute, (c) =>
      c.json(
        {
          name: documentOf().info.title,
          version: API_VERSION,
          docs: "/docs",
          openapi: "/openapi.json",
          errors: ERROR_DOCS_PATH,
        },
        200,
      ),
    )
    .openapi(openApiRoute, (c) => {
      customer ??= referenceDocument(documentOf(), "customer");
      return c.json(customer, 200);
    })
    .openapi(operatorOpenApiRoute, (c) => {
      operator ??= referenceDocument(documentOf(), "operator");
      return c.json(operator, 200);
    })
    .openapi(docsRoute, (c) => customerReference(c))
    .openapi(operatorDocsRoute, (c) => operatorReference(c))
    .openapi(errorsRoute, async (c) => {
      errorPage ??= renderErrorPage(documentOf().info.title);
      return c.html(await errorPage);
    });
}
