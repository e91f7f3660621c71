/**
 * The e-mail adapter (src/adapters/email) against the Resend fake, and the fake's rules: what it
 * records, what it refuses as Resend does, idempotency, its rate limit (the adapter's one paced
 * retry), and the adapter's timeout.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createResendSender, EmailError } from "../../src/adapters/email";
import { type ResendFake, startResendFake } from "../support/resend-fake";

let fake: ResendFake;

beforeAll(async () => {
  fake = await startResendFake({ rateLimitPerSecond: 100 });
});

afterAll(async () => {
  await fake?.close();
});

const raw = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}/emails`, {
    method: "POST",
    headers: { Authorization: `Bearer ${fake.apiKey}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

const valid = {
  from: "Schema Meter <console@example.com>",
  to: "dev@example.com",
  subject: "Hi",
  text: "Hello",
};

describe("Resend fake and the e-mail adapter", () => {
  it("sends through the adapter and records the message", async () => {
    fake.clear();
    const sender = createResendSender({
      apiKey: fake.apiKey,
      from: valid.from,
      apiBase: fake.url,
      timeoutMs: 2000,
    });
    const { id } = await sender.send({ to: "dev@example.com", subject: "Link", text: "https://x.test/link" });
    expect(fake.messages()).toMatchObject([
      {
        id,
        from: valid.from,
        to: ["dev@example.com"],
        subject: "Link",
        text: "https://x.test/link",
        html: null,
      },
    ]);
  });

  it("refuses what Resend refuses, with its error names", async () => {
    const cases: [unknown, number, string][] = [
      [{ ...valid, subject: undefined }, 422, "missing_required_field"],
      [{ ...valid, text: undefined }, 422, "missing_required_field"],
      [{ ...valid, from: "not an address" }, 422, "validation_error"],
      [
        { ...valid, to: Array.from({ length: 51 }, (_, index) => `u${index}@example.com`) },
        422,
        "validation_error",
      ],
      [{ ...valid, to: ["bad"] }, 422, "validation_error"],
    ];
    for (const [body, status, name] of cases) {
      const response = await raw(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(await response.json()).toMatchObject({ statusCode: status, name });
    }
    const noKey = await fetch(`${fake.url}/emails`, { method: "POST", body: "{}" });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ name: "missing_api_key" });
    const sender = createResendSender({
      apiKey: "re_wrong",
      from: valid.from,
      apiBase: fake.url,
      timeoutMs: 2000,
    });
    await expect(sender.send({ to: "dev@example.com", subject: "x", text: "x" })).rejects.toMatchObject({
      status: 403,
      reason: "invalid_api_key",
    });
  });

  it("an Idempotency-Key answers the first id for the same body and 409 for another", async () => {
    fake.clear();
    const first = (await (await raw(valid, { "Idempotency-Key": "k-1" })).json()) as { id: string };
    const again = (await (await raw(valid, { "Idempotency-Key": "k-1" })).json()) as { id: string };
    expect(again.id).toBe(first.id);
    expect(fake.messages()).toHaveLength(1);
    const other = await raw({ ...valid, subject: "Other" }, { "Idempotency-Key": "k-1" });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ name: "invalid_idempotent_request" });
  });

  it("limits requests per second (429 with Retry-After); the adapter retries once, paced", async () => {
    const slow = await startResendFake({ rateLimitPerSecond: 1 });
    try {
      const sender = createResendSender({
        apiKey: slow.apiKey,
        from: valid.from,
        apiBase: slow.url,
        timeoutMs: 2000,
      });
      await sender.send({ to: "a@example.com", subject: "1", text: "1" });
      const refused = await fetch(`${slow.url}/emails`, {
        method: "POST",
        headers: { Authorization: `Bearer ${slow.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(valid),
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get("Retry-After")).toBe("1");
      await sender.send({ to: "b@example.com", subject: "2", text: "2" });
      expect(slow.messages().map((message) => message.to[0])).toEqual(["a@example.com", "b@example.com"]);
    } finally {
      await slow.close();
    }
  });

  it("a provider that does not answer is an EmailError (timeout), within the budget", async () => {
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const sender = createResendSender({
        apiKey: "re_x",
        from: valid.from,
        apiBase: `http://127.0.0.1:${port}`,
        timeoutMs: 200,
      });
      const error = await sender
        .send({ to: "a@example.com", subject: "x", text: "x" })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EmailError);
      expect(error).toMatchObject({ status: 0, reason: "timeout" });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
