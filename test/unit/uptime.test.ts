/**
 * `npm run monitor`'s checks against a local server answering as a healthy, a degraded, a hung and
 * a broken deployment would.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDeployment } from "../../scripts/lib/uptime";

type Mode = "healthy" | "redis-down" | "hung" | "html";
let mode: Mode = "healthy";
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (mode === "hung" && request.url === "/health/ready") return; // never answers
    if (mode === "html") {
      response.writeHead(502, { "Content-Type": "text/html" }).end("<h1>Bad gateway</h1>");
      return;
    }
    if (request.url === "/health") {
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
    } else if (request.url === "/health/ready" && mode === "healthy") {
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ready","checks":{}}');
    } else {
      response
        .writeHead(503, { "Content-Type": "application/problem+json" })
        .end('{"status":503,"code":"DEPENDENCY_UNAVAILABLE","detail":"Not ready: redis unavailable"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("uptime checks (npm run monitor)", () => {
  it("passes both checks on a healthy deployment", async () => {
    mode = "healthy";
    const results = await checkDeployment(base, 2000);
    expect(results.map((result) => [result.url.replace(base, "/"), result.ok, result.summary])).toEqual([
      ["/health", true, "200 ok"],
      ["/health/ready", true, "200 ready"],
    ]);
  });

  it("fails readiness with the dependency the 503 names", async () => {
    mode = "redis-down";
    const [live, ready] = await checkDeployment(base, 2000);
    expect(live?.ok).toBe(true);
    expect(ready).toMatchObject({
      ok: false,
      summary: "503 DEPENDENCY_UNAVAILABLE: Not ready: redis unavailable",
    });
  });

  it("fails on a timeout and on a body that is not the API's", async () => {
    mode = "hung";
    const [, ready] = await checkDeployment(base, 300);
    expect(ready).toMatchObject({ ok: false, summary: "timeout after 300 ms" });
    mode = "html";
    const results = await checkDeployment(base, 2000);
    expect(results.every((result) => !result.ok && result.summary === "502, body is not JSON")).toBe(true);
  });

  it("fails when nothing listens", async () => {
    const results = await checkDeployment("http://127.0.0.1:9", 1000);
    expect(results.every((result) => !result.ok && result.summary.startsWith("unreachable"))).toBe(true);
  });
});
