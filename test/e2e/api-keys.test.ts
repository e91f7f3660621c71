/**
 * API keys end to end in real workerd (`wrangler dev`): the first call a new customer makes is the
 * sign-up's key on /v1/validate, with no token, and it costs one Redis request (counted at the
 * Upstash bridge); then keys self-service: create, roll (the old key refused at once), revoke, and
 * the last key kept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

let stack: LocalStack;
let worker: WorkerProcess;

const api = (path: string, credential: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${worker.url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      Authorization: `Bearer ${credential}`,
      ...(init.body !== undefined && { "Content-Type": "application/json" }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });

const validate = (credential: string) =>
  api("/v1/validate", credential, {
    method: "POST",
    body: { schema: { type: "object", required: ["id"] }, data: { id: 1 } },
  });

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  worker = await startWranglerDev({
    vars: {
      ...stack.vars,
      RATE_LIMIT_TIERS: '{"free":{"limit":100,"windowSeconds":10}}',
      ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

describe("API keys in real workerd", () => {
  it("sign up, then call /v1/validate with the key: one Redis request; then create, roll and revoke keys", async () => {
    const signup = await fetch(`${worker.url}/v1/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "e2e-keys@example.com" }),
    });
    expect(signup.status, await signup.clone().text()).toBe(201);
    const { api_key: apiKey } = (await signup.json()) as { api_key: string };

    stack.redisBridge.resetCount();
    const first = await validate(apiKey);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toMatchObject({ valid: true, units: 1 });
    expect(stack.redisBridge.requestCount()).toBe(1);

    const created = await api("/v1/keys", apiKey, { method: "POST", body: { name: "ci" } });
    expect(created.status, await created.clone().text()).toBe(201);
    const { key, secret } = (await created.json()) as { key: { id: string }; secret: string };
    expect((await validate(secret)).status).toBe(200);

    const rolled = await api(`/v1/keys/${key.id}/roll`, apiKey, { method: "POST" });
    expect(rolled.status, await rolled.clone().text()).toBe(201);
    const { secret: rolledSecret, key: rolledKey } = (await rolled.json()) as {
      secret: string;
      key: { id: string };
    };
    const old = await validate(secret);
    expect(old.status).toBe(401);
    expect(((await old.json()) as { code: string }).code).toBe("API_KEY_INVALID");
    expect((await validate(rolledSecret)).status).toBe(200);

    expect((await api(`/v1/keys/${rolledKey.id}`, apiKey, { method: "DELETE" })).status).toBe(200);
    expect((await validate(rolledSecret)).status).toBe(401);

    const last = await api(`/v1/keys/${apiKey.slice(0, 13)}`, apiKey, { method: "DELETE" });
    expect(last.status).toBe(409);
    expect(((await last.json()) as { code: string }).code).toBe("API_KEY_LAST_ACTIVE");

    const listed = (await (await api("/v1/keys", apiKey)).json()) as {
      keys: { name: string; state: string }[];
    };
    expect(listed.keys.map((k) => [k.name, k.state])).toEqual([
      ["ci", "revoked"],
      ["ci", "revoked"],
      ["default", "active"],
    ]);
    // Secrets and key hashes never reach the Worker's log.
    expect(worker.output()).not.toContain(apiKey);
    expect(worker.output()).not.toContain(rolledSecret);
  });
});
