import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonBody } from "./json-body";
import { isAssembled, memberKeysOf } from "./json-slices";

describe("jsonBody on a body of over 512 KiB", () => {
  it("hands the validator the value parsed in slices, not a second native parse", async () => {
    const seen: { properties?: unknown; again?: unknown } = {};
    const app = new Hono();
    app.use(async (c, next) => {
      c.set("config" as never, { MAX_DEPTH: 64 } as never);
      await next();
    });
    app.post("/", jsonBody(z.object({ schema: z.record(z.string(), z.unknown()) })), async (c) => {
      const body = c.req.valid("json" as never) as { schema: { properties: unknown } };
      seen.properties = body.schema.properties;
      seen.again = await c.req.json();
      return c.text("ok");
    });
    const properties = Object.fromEntries(
      Array.from({ length: 30_000 }, (_, i) => [`p${i}`, { type: "string" }]),
    );
    const text = JSON.stringify({ schema: { type: "object", properties } });
    expect(text.length).toBeGreaterThan(512 * 1024);
    const response = await app.request("/", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Content-Length": String(text.length) },
      body: text,
    });
    expect(response.status).toBe(200);
    // Hono's own json() would JSON.parse the text again: nothing assembled, no keys recorded.
    expect(isAssembled(seen.properties)).toBe(true);
    expect(memberKeysOf(seen.properties)).toHaveLength(30_000);
    expect(seen.properties).toEqual(properties);
    expect(isAssembled(seen.again)).toBe(true);
  });
});
