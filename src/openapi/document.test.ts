import { validate } from "@readme/openapi-parser";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";
import { newApp } from "../app";

/** The document as a client gets it: through the app, with no configuration (the route needs none). */
async function servedDocument(app = newApp(), path = "/openapi.json") {
  const response = await app.request(path, {}, {});
  expect(response.status).toBe(200);
  return (await response.json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, unknown> };
  };
}

describe("/openapi.json", () => {
  it.each(["/openapi.json", "/openapi/operator.json"])(
    "%s is a valid OpenAPI 3.1 document for a maintained validator, with one Problem schema",
    async (path) => {
      const document = await servedDocument(newApp(), path);
      const result = await validate(structuredClone(document) as unknown as Parameters<typeof validate>[0]);
      expect(result.valid ? [] : result.errors).toEqual([]);
      expect(result.warnings).toEqual([]);
      expect(document.openapi).toBe("3.1.0");
      expect(Object.keys(document.components.schemas)).toEqual(["Problem"]);
      expect(JSON.stringify(document)).not.toContain("$defs");
    },
  );

  it("documents the request options of both validate routes, dialect among them", async () => {
    const document = await servedDocument();
    for (const path of ["/v1/validate", "/v1/validate/batch"]) {
      const body = JSON.stringify(document.paths[path]?.post);
      expect(body, path).toContain('"dialect"');
      expect(body, path).toContain('"strict"');
    }
  });

  it("generates TypeScript types with openapi-typescript", async () => {
    // openapi-typescript throws on any $ref it cannot resolve or object it cannot read.
    const document = (await servedDocument()) as unknown as Parameters<typeof openapiTS>[0];
    const types = astToString(await openapiTS(document));
    expect(types).toContain('"/v1/validate": {');
    expect(types).toContain("Problem: {");
  });

  it("the customer and operator documents together list every mounted route once, and only those", async () => {
    const app = newApp();
    const customer = await servedDocument(app);
    const operator = await servedDocument(app, "/openapi/operator.json");
    // One entry per handler (route middleware, validators, handler); app-wide middleware is method ALL.
    // The console (/console) is a website of pages and HTML forms, not API operations: not documented.
    const mounted = new Set(
      app.routes
        .filter((route) => route.method !== "ALL" && !route.path.startsWith("/console"))
        .map((route) => `${route.method} ${route.path.replace(/:([^/]+)/g, "{$1}")}`),
    );
    const operationsOf = (document: Awaited<ReturnType<typeof servedDocument>>) =>
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
    const documented = [...operationsOf(customer), ...operationsOf(operator)];
    expect([...mounted].sort()).toEqual(documented.sort());
    expect(operationsOf(operator)).toContain("POST /admin/usage-batches/{id}/requeue");
    expect(operationsOf(customer)).toContain("POST /v1/validate");
    expect(operationsOf(customer)).toContain("GET /v1/usage");
    expect(documented.filter((operation) => operation.includes(" /console"))).toEqual([]);
  });
});
