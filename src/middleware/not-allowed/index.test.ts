import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../env";
import { allowedMethods } from ".";

const app = new Hono<AppBindings>()
  .use(async (_c, next) => next())
  .get("/health", (c) => c.text("ok"))
  .post("/v1/validate", (c) => c.text("ok"))
  .post("/admin/usage-batches/:id/requeue", (c) => c.text("ok"))
  .delete("/admin/usage-batches/:id/requeue", (c) => c.text("ok"))
  .get("/static/*", (c) => c.text("ok"));

describe("allowedMethods", () => {
  it("lists the methods of a known path, HEAD with GET", () => {
    expect(allowedMethods(app, "/health")).toEqual(["GET", "HEAD"]);
    expect(allowedMethods(app, "/v1/validate")).toEqual(["POST"]);
    expect(allowedMethods(app, "/health/")).toEqual(["GET", "HEAD"]);
  });

  it("matches path parameters segment by segment", () => {
    expect(allowedMethods(app, "/admin/usage-batches/smu_1/requeue")).toEqual(["DELETE", "POST"]);
    expect(allowedMethods(app, "/admin/usage-batches/a/b/requeue")).toEqual([]);
  });

  it("is empty for an unknown path; middleware and wildcards do not make a path exist", () => {
    expect(allowedMethods(app, "/nowhere")).toEqual([]);
    expect(allowedMethods(app, "/static/app.js")).toEqual([]);
  });
});
