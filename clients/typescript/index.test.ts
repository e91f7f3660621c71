import { describe, expect, it } from "vitest";
import { createSchemaMeterClient, retryAfterMs } from "./index";

const BASE = "https://api.example.com";
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
const verdict = { valid: true, errors: [], units: 1 };

/** A scripted server: each request gets the next answer for its path; what was sent is recorded. */
function server(answers: Record<string, (() => Response)[]>) {
  const sent: { path: string; authorization: string | null }[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    sent.push({ path, authorization: request.headers.get("Authorization") });
    const next = answers[path]?.shift();
    if (!next) throw new Error(`unexpected ${path}`);
    return next();
  }) as typeof fetch;
  return { fetch: fetchImpl, sent };
}
const token =
  (value: string, expiresIn = 900) =>
  () =>
    json(200, { token: value, token_type: "Bearer", expires_at: "", expires_in: expiresIn, tier: "free" });
const validate = (client: ReturnType<typeof createSchemaMeterClient>) =>
  client.api.POST("/v1/validate", { body: { schema: true, data: 1 } });

describe("TypeScript client", () => {
  it("renews the token a minute before it expires, and sends the API key only to /v1/token", async () => {
    let clock = 0;
    const network = server({
      "/v1/token": [token("t1"), token("t2")],
      "/v1/validate": [() => json(200, verdict), () => json(200, verdict), () => json(200, verdict)],
    });
    const client = createSchemaMeterClient({
      baseUrl: BASE,
      credentials: { apiKey: "sm_key" },
      fetch: network.fetch,
      now: () => clock,
    });
    await validate(client);
    clock += 830_000; // 70 s before expiry: still used
    await validate(client);
    clock += 20_000; // 50 s before expiry: renewed
    await validate(client);
    expect(network.sent.map((sent) => `${sent.path} ${sent.authorization}`)).toEqual([
      "/v1/token Bearer sm_key",
      "/v1/validate Bearer t1",
      "/v1/validate Bearer t1",
      "/v1/token Bearer sm_key",
      "/v1/validate Bearer t2",
    ]);
  });

  it("sends the API key on every call when asked to, and a given token as is", async () => {
    const direct = server({ "/v1/validate": [() => json(200, verdict)] });
    await validate(
      createSchemaMeterClient({
        baseUrl: BASE,
        credentials: { apiKey: "sm_key", sendApiKey: true },
        fetch: direct.fetch,
      }),
    );
    expect(direct.sent).toEqual([{ path: "/v1/validate", authorization: "Bearer sm_key" }]);
    const given = server({ "/v1/validate": [() => json(200, verdict)] });
    await validate(
      createSchemaMeterClient({ baseUrl: BASE, credentials: { token: "tok" }, fetch: given.fetch }),
    );
    expect(given.sent).toEqual([{ path: "/v1/validate", authorization: "Bearer tok" }]);
  });

  it("renews once after TOKEN_EXPIRED, and re-sends the same body", async () => {
    const bodies: string[] = [];
    const network = server({
      "/v1/token": [token("t1"), token("t2")],
      "/v1/validate": [() => json(401, { code: "TOKEN_EXPIRED" }), () => json(200, verdict)],
    });
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (request.url.endsWith("/v1/validate")) bodies.push(await request.clone().text());
      return network.fetch(request);
    }) as typeof fetch;
    const client = createSchemaMeterClient({
      baseUrl: BASE,
      credentials: { apiKey: "sm_key" },
      fetch: recording,
    });
    const { data } = await validate(client);
    expect(data).toEqual(verdict);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect(network.sent.at(-1)).toEqual({ path: "/v1/validate", authorization: "Bearer t2" });
  });

  it("waits Retry-After on 429/503 up to maxRetries; a longer wait or none is returned as is", async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const limited = () => json(429, { code: "RATE_LIMITED" }, { "Retry-After": "2" });
    const network = server({
      "/v1/validate": [
        limited,
        () => json(503, { code: "DEPENDENCY_UNAVAILABLE" }, { "Retry-After": "1" }),
        () => json(200, verdict),
        () => json(429, { code: "RATE_LIMITED" }, { "Retry-After": "120" }),
        () => json(503, { code: "DEPENDENCY_UNAVAILABLE" }),
        limited,
        limited,
      ],
    });
    const options = { baseUrl: BASE, credentials: { token: "tok" }, fetch: network.fetch, sleep };
    expect((await validate(createSchemaMeterClient(options))).data).toEqual(verdict);
    expect(waits).toEqual([2000, 1000]);
    expect((await validate(createSchemaMeterClient(options))).response.status).toBe(429);
    expect((await validate(createSchemaMeterClient(options))).response.status).toBe(503);
    const once = await validate(createSchemaMeterClient({ ...options, maxRetries: 1 }));
    expect(once.error?.code).toBe("RATE_LIMITED");
    expect(waits).toEqual([2000, 1000, 2000]);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs("3", 0)).toBe(3000);
    expect(retryAfterMs("Tue, 01 Dec 2026 10:00:05 GMT", Date.parse("Tue, 01 Dec 2026 10:00:00 GMT"))).toBe(
      5000,
    );
    expect(retryAfterMs("soon", 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});
