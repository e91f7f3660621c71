import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { ApiError } from "../errors";
import { jsonBody, requireJson } from "../lib/json-body";
import { checkedElsewhere } from "./checked-by-middleware";
import { jsonRequest, jsonResponse } from "./responses";
import { newRouter } from "./router";

/** A body schema that counts how often it is checked. */
function countedBody() {
  const counter = { checks: 0 };
  const schema = z
    .object({ name: z.string() })
    .strict()
    .refine(() => {
      counter.checks += 1;
      return true;
    });
  return { counter, schema };
}

const reply = z.object({ name: z.string() });

function appWith(middleware: "checked" | "unchecked", headers?: z.ZodObject) {
  const { counter, schema } = countedBody();
  const route = createRoute({
    method: "post",
    path: "/things",
    middleware: middleware === "checked" ? [requireJson, jsonBody(schema)] : [],
    request: { ...(headers && { headers }), body: jsonRequest(schema, { name: "x" }) },
    responses: { 200: jsonResponse("The thing", reply) },
  });
  const app = newRouter().openapi(route, (c) => c.json({ name: c.req.valid("json").name }, 200));
  app.onError((error, c) =>
    error instanceof ApiError
      ? c.json({ code: error.code }, error.status as 400)
      : c.json({ code: "OTHER", message: String(error) }, 500),
  );
  return { app, counter };
}

const post = (app: ReturnType<typeof appWith>["app"], body: string, headers: Record<string, string> = {}) =>
  app.request("/things", {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json", ...headers },
  });

describe("newRouter", () => {
  it("checks a body once when the route's middleware checks it with the declared schema", async () => {
    const { app, counter } = appWith("checked");
    const response = await post(app, '{"name":"a"}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: "a" });
    expect(counter.checks).toBe(1);
  });

  it("still has zod-openapi check a body that no middleware checks", async () => {
    const { app, counter } = appWith("unchecked");
    expect((await post(app, '{"name":"a"}')).status).toBe(200);
    expect(counter.checks).toBe(1);
    const refused = await post(app, '{"name":1}');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("refuses a body that does not match, once checked", async () => {
    const { app } = appWith("checked");
    const response = await post(app, '{"name":1}');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("keeps the body and headers it does not check again in the OpenAPI document", () => {
    const headers = checkedElsewhere(z.object({ "Idempotency-Key": z.string().optional() }));
    const { app } = appWith("checked", headers);
    const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const operation = document.paths?.["/things"]?.post;
    expect(operation?.requestBody).toMatchObject({
      required: true,
      content: { "application/json": { example: { name: "x" } } },
    });
    expect(operation?.parameters).toEqual([
      expect.objectContaining({ in: "header", name: "Idempotency-Key", required: false }),
    ]);
  });

  it("refuses the content types zod-openapi's gate refused, now before the body is read", async () => {
    const { app, counter } = appWith("checked");
    for (const type of ["application/json ; charset=utf-8", "application/x_y+json"]) {
      const response = await post(app, '{"name":"a"}', { "Content-Type": type });
      expect(response.status, type).toBe(415);
      expect(await response.json()).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE" });
    }
    expect(counter.checks).toBe(0);
    for (const type of ["application/json; charset=utf-8", "application/vnd.api+json"]) {
      expect((await post(app, '{"name":"a"}', { "Content-Type": type })).status, type).toBe(200);
    }
  });
});
