import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { Config } from "../config";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { jsonBody, requireJson } from "./json-body";
import { isAssembled, memberKeysOf, PARSE_AT_ONCE_CHARS } from "./json-slices";

const body = z.object({ data: z.unknown() }).strict();

const app = new Hono<AppBindings>()
  .use(async (c, next) => {
    c.set("config", { MAX_DEPTH: 64 } as Config);
    await next();
  })
  .post("/", requireJson, jsonBody(body), (c) => {
    const { data } = c.req.valid("json" as never) as z.output<typeof body>;
    return c.json({ assembled: isAssembled(data) });
  })
  .onError((error, c) =>
    c.json(
      { code: error instanceof ApiError ? error.code : "OTHER" },
      error instanceof ApiError ? (error.status as 400) : 500,
    ),
  );

const post = (text: string) =>
  app.request("/", { method: "POST", body: text, headers: { "Content-Type": "application/json" } });

/** How many times JSON.parse was handed `text` while `run` ran. */
async function parsesOf(text: string, run: () => Promise<unknown>): Promise<number> {
  const parse = vi.spyOn(JSON, "parse");
  await run();
  const count = parse.mock.calls.filter(([argument]) => argument === text).length;
  parse.mockRestore();
  return count;
}

afterEach(() => vi.restoreAllMocks());

describe("jsonBody", () => {
  it("parses a small body once", async () => {
    const text = JSON.stringify({ data: { a: 1 } });
    let response: Response | undefined;
    expect(await parsesOf(text, async () => (response = await post(text)))).toBe(1);
    expect(response?.status).toBe(200);
  });

  it("hands on the value parsed in slices for a large body, without parsing its text again", async () => {
    const data = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`p${i}`, i]));
    const text = JSON.stringify({ data });
    expect(text.length).toBeGreaterThan(PARSE_AT_ONCE_CHARS);
    let response: Response | undefined;
    expect(await parsesOf(text, async () => (response = await post(text)))).toBe(0);
    expect(response?.status).toBe(200);
    expect(await response?.json()).toEqual({ assembled: true });
  });

  it("refuses a body that is not JSON (MALFORMED_JSON) or not of the shape (BAD_REQUEST)", async () => {
    expect(await (await post('{"data": 1,}')).json()).toEqual({ code: "MALFORMED_JSON" });
    expect(await (await post("")).json()).toEqual({ code: "MALFORMED_JSON" });
    expect(await (await post('{"data": 1, "extra": 2}')).json()).toEqual({ code: "BAD_REQUEST" });
    expect(await (await post("[1]")).json()).toEqual({ code: "BAD_REQUEST" });
  });
});

describe("jsonBody on a body of over 512 KiB, without requireJson", () => {
  it("hands the validator the value parsed in slices, not a second native parse", async () => {
    const seen: { properties?: unknown; again?: unknown } = {};
    const wide = new Hono();
    wide.use(async (c, next) => {
      c.set("config" as never, { MAX_DEPTH: 64 } as never);
      await next();
    });
    wide.post("/", jsonBody(z.object({ schema: z.record(z.string(), z.unknown()) })), async (c) => {
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
    const response = await wide.request("/", {
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
