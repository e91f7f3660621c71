import { createRoute, z } from "@hono/zod-openapi";
import { html } from "hono/html";
import { API_VERSION } from "../api-version";
import { ERROR_CODES } from "../errors";
import type { OpenApiDocument } from "../openapi/document";
import { newRouter } from "../openapi/router";

function renderDocsPage(document: OpenApiDocument) {
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    (["get", "put", "post", "delete", "patch"] as const).flatMap((method) => {
      const operation = item[method];
      return operation ? [{ path, method, operation }] : [];
    }),
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
<p>${document.info.description ?? ""}</p>
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

const openApiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This API's OpenAPI 3.1 document",
  tags: ["Documentation"],
  responses: {
    200: {
      description: "The OpenAPI document",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

const indexResponse = z.object({
  name: z.string(),
  version: z.string().describe("The API version (Schema-Meter-Version)"),
  docs: z.string().describe("Human-readable documentation"),
  openapi: z.string().describe("The OpenAPI 3.1 document"),
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
  summary: "Human-readable API documentation",
  tags: ["Documentation"],
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } },
  },
});

/** `/`, `/openapi.json` and `/docs`, all from the document of every declared route (built once, on first use). */
export function docsRoutes(documentOf: () => OpenApiDocument) {
  let page: ReturnType<typeof renderDocsPage> | undefined;
  return newRouter()
    .openapi(indexRoute, (c) =>
      c.json(
        { name: documentOf().info.title, version: API_VERSION, docs: "/docs", openapi: "/openapi.json" },
        200,
      ),
    )
    .openapi(openApiRoute, (c) => c.json(documentOf(), 200))
    .openapi(docsRoute, async (c) => {
      page ??= renderDocsPage(documentOf());
      return c.html(await page);
    });
}
