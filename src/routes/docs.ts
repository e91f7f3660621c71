import { Hono } from "hono";
import { html } from "hono/html";
import type { AppBindings } from "../env";
import { ERROR_CODES } from "../errors";
import { buildOpenApiDocument, type RouteDoc } from "../openapi/registry";

const API_INFO = {
  title: "Schema Meter API",
  version: "1.0.0",
  description:
    "Metered JSON Schema validation and enrichment at the edge. Errors are RFC 9457 problem+json with a stable `code` and the `request_id`.",
};

type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

function renderDocsPage(document: OpenApiDocument) {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      path,
      method,
      operation: operation as Record<string, unknown>,
    })),
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${document.info.title}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
code,pre{font:14px ui-monospace,monospace;background:#f4f4f4;border-radius:4px}
pre{padding:.75rem;overflow:auto}
.op{border-top:1px solid #ddd;padding:.5rem 0}
.method{font-weight:700;text-transform:uppercase;margin-right:.5rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}
</style>
</head>
<body>
<h1>${document.info.title} <small>v${document.info.version}</small></h1>
<p>${document.info.description}</p>
<p>Machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Endpoints</h2>
${operations.map(
  ({ path, method, operation }) => html`<div class="op">
<h3><span class="method">${method}</span><code>${path}</code></h3>
<p><strong>${String(operation.summary ?? "")}</strong>${operation.description ? html` — ${String(operation.description)}` : ""}</p>
<details><summary>Request and responses</summary><pre>${JSON.stringify(
    { requestBody: operation.requestBody, responses: operation.responses },
    null,
    2,
  )}</pre></details>
</div>`,
)}
<h2>Errors</h2>
<table><tr><th>code</th><th>status</th><th>meaning</th></tr>
${Object.entries(ERROR_CODES).map(
  ([code, { status, title }]) =>
    html`<tr id="error-${code.toLowerCase()}"><td><code>${code}</code></td><td>${status}</td><td>${title}</td></tr>`,
)}
</table>
</body>
</html>`;
}

/** `/openapi.json` and `/docs`, built once from every route module's docs. */
export function docsRoutes(routeDocs: RouteDoc[]) {
  const document = buildOpenApiDocument(routeDocs, API_INFO);
  const page = renderDocsPage(document);
  return new Hono<AppBindings>()
    .get("/openapi.json", (c) => c.json(document))
    .get("/docs", async (c) => c.html(await page));
}

export const docsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document",
    tags: ["Documentation"],
    responses: { 200: { description: "The OpenAPI document" } },
  },
  {
    method: "get",
    path: "/docs",
    summary: "Human-readable API documentation",
    tags: ["Documentation"],
    responses: { 200: { description: "An HTML page", contentType: "text/html" } },
  },
];
