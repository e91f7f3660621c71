import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppBindings } from "../../env";
import { requestLog } from ".";

const app = new Hono<AppBindings>()
  .use(async (c, next) => {
    c.set("requestId", "req_test");
    await next();
  })
  .use(requestLog())
  .get("/items/:id", (c) => {
    c.set("subject", "acc_1");
    return c.text("ok");
  })
  .get("/broken", (c) => c.text("no", 503));

function captured() {
  const lines: Record<string, unknown>[] = [];
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((line: string) => lines.push(JSON.parse(line)));
  }
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe("requestLog", () => {
  it("writes one line per request: id, method, route pattern, path, status, latency, subject", async () => {
    const lines = captured();
    await app.request("/items/42");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "request",
      request_id: "req_test",
      method: "GET",
      route: "/items/:id",
      path: "/items/42",
      status: 200,
      subject: "acc_1",
    });
    expect(typeof lines[0]?.latency_ms).toBe("number");
  });

  it("logs 4xx as warn and 5xx as error", async () => {
    const lines = captured();
    await app.request("/nowhere");
    await app.request("/broken");
    expect(lines.map((line) => [line.status, line.level])).toEqual([
      [404, "warn"],
      [503, "error"],
    ]);
  });
});
