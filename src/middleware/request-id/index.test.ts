import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../errors";
import { REQUEST_ID_HEADER, type RequestIdVariables, requestId } from ".";

const app = new Hono<{ Variables: RequestIdVariables }>()
  .use(requestId())
  .get("/id", (c) => c.text(c.var.requestId))
  .get("/refused", () => {
    throw new ApiError("NOT_FOUND");
  })
  .onError((_error, c) => c.json({ request_id: c.var.requestId }, 404));

const get = (path: string, id?: string) =>
  app.request(path, id === undefined ? {} : { headers: { [REQUEST_ID_HEADER]: id } });

describe("requestId", () => {
  it("generates req_<32 hex> when none is sent, puts it on c.var and echoes it", async () => {
    const response = await get("/id");
    const id = response.headers.get(REQUEST_ID_HEADER);
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(await response.text()).toBe(id);
  });

  it("keeps a plain caller id, with dots and colons, up to 128 characters", async () => {
    for (const id of ["client-id.42", "trace:00f067aa0ba902b7", "a".repeat(128)]) {
      const response = await get("/id", id);
      expect(response.headers.get(REQUEST_ID_HEADER)).toBe(id);
      expect(await response.text()).toBe(id);
    }
  });

  it("replaces an id that is unsafe to log or echo, or too long", async () => {
    for (const id of ["a\u00e9<script>", "two words", "a".repeat(129), ""]) {
      expect((await get("/id", id)).headers.get(REQUEST_ID_HEADER)).toMatch(/^req_[0-9a-f]{32}$/);
    }
  });

  it("echoes the id on responses built by the error handler too", async () => {
    const response = await get("/refused", "client-id.42");
    expect(response.status).toBe(404);
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe("client-id.42");
    expect(await response.json()).toEqual({ request_id: "client-id.42" });
  });
});
