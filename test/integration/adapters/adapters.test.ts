/**
 * The production adapters against the real local stack: Redis through the Upstash client and the
 * bridge, Postgres through postgrest-js rpc and the PostgREST bridge, Stripe through the SDK's
 * fetch client and STRIPE_API_BASE. Each call has a timeout, checked against a dependency that hangs.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisAdapter } from "../../../src/adapters/redis";
import { createStripeAdapter } from "../../../src/adapters/stripe";
import { createSupabaseAdapter, DatabaseError } from "../../../src/adapters/supabase";
import { type LocalStack, startLocalStack } from "../../support/local-stack";

let stack: LocalStack;
let blackHole: Server;
let blackHoleUrl: string;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  // Accepts connections and never answers: the shape of a hung dependency.
  blackHole = createServer(() => {});
  await new Promise<void>((listening) => blackHole.listen(0, "127.0.0.1", listening));
  blackHoleUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
});

afterAll(async () => {
  blackHole?.closeAllConnections();
  await new Promise((closed) => blackHole?.close(closed));
  await stack?.stop();
});

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await work();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe("Redis adapter", () => {
  it("pings real Redis through the bridge", async () => {
    const redis = createRedisAdapter({
      url: stack.redisBridge.url,
      token: stack.secrets.redisToken,
      timeoutMs: 500,
    });
    stack.redisBridge.resetCount();
    await redis.ping();
    expect(stack.redisBridge.requestCount()).toBe(1);
  });

  it("fails on a wrong token and times out on a hung server", async () => {
    const wrongToken = createRedisAdapter({ url: stack.redisBridge.url, token: "wrong", timeoutMs: 500 });
    await expect(wrongToken.ping()).rejects.toThrow();
    const hung = createRedisAdapter({ url: blackHoleUrl, token: "t", timeoutMs: 200 });
    const { ms, error } = await elapsed(() => hung.ping());
    expect((error as Error | undefined)?.name).toBe("TimeoutError");
    expect(ms).toBeGreaterThanOrEqual(180);
    expect(ms).toBeLessThan(1500);
  });
});

describe("Postgres adapter", () => {
  it("calls a migrated SQL function through rpc", async () => {
    const db = createSupabaseAdapter({
      url: stack.postgrest.url,
      serviceRoleKey: stack.secrets.serviceRoleKey,
      timeoutMs: 2000,
    });
    expect(await db.rpc<{ ok: boolean; now: string }>("health_check")).toMatchObject({ ok: true });
  });

  it("reports an unknown function as a DatabaseError with PostgREST's code", async () => {
    const db = createSupabaseAdapter({
      url: stack.postgrest.url,
      serviceRoleKey: stack.secrets.serviceRoleKey,
      timeoutMs: 2000,
    });
    const failure = db.rpc("no_such_function");
    await expect(failure).rejects.toBeInstanceOf(DatabaseError);
    await expect(failure).rejects.toMatchObject({ code: "PGRST202", status: 404 });
  });

  it("times out on a hung server", async () => {
    const db = createSupabaseAdapter({ url: blackHoleUrl, serviceRoleKey: "k", timeoutMs: 200 });
    const { ms, error } = await elapsed(() => db.rpc("health_check"));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(String(error)).toMatch(/TimeoutError/);
    expect(ms).toBeGreaterThanOrEqual(180);
    expect(ms).toBeLessThan(1500);
  });
});

describe("Stripe adapter", () => {
  const adapter = (apiBase: string, timeoutMs = 2000) =>
    createStripeAdapter({ secretKey: stack.secrets.stripeSecretKey, apiBase, timeoutMs });

  it("reports a meter event to the Stripe-compatible server named by STRIPE_API_BASE", async () => {
    const customer = await stack.stripe.createCustomer({ email: "adapter@example.com" });
    const timestamp = Math.floor(Date.now() / 1000);
    await adapter(stack.stripe.url).reportMeterEvent({
      eventName: "api_validation",
      stripeCustomerId: customer.id,
      value: 3,
      identifier: "adapter-test-1",
      timestamp,
    });
    expect(stack.stripe.unitsByCustomer()[customer.id]).toBe(3);
    const request = stack.stripe.requests().find((entry) => entry.path === "/v1/billing/meter_events");
    expect(request?.body).toMatchObject({ identifier: "adapter-test-1", payload: { value: "3" } });
  });

  it("surfaces Stripe's rejection (a duplicate identifier) and never retries on its own", async () => {
    const customer = await stack.stripe.createCustomer({ email: "adapter2@example.com" });
    const event = {
      eventName: "api_validation",
      stripeCustomerId: customer.id,
      value: 2,
      identifier: "adapter-test-dup",
      timestamp: Math.floor(Date.now() / 1000),
    };
    await adapter(stack.stripe.url).reportMeterEvent(event);
    await expect(adapter(stack.stripe.url).reportMeterEvent(event)).rejects.toMatchObject({
      statusCode: 400,
    });
    expect(stack.stripe.unitsByCustomer()[customer.id]).toBe(2);

    stack.stripe.failNext(1, { status: 500 }, "/v1/billing/meter_events");
    const before = stack.stripe.requests().length;
    await expect(
      adapter(stack.stripe.url).reportMeterEvent({ ...event, identifier: "adapter-test-500" }),
    ).rejects.toThrow();
    expect(stack.stripe.requests().length - before).toBe(1);
  });

  it("times out on a hung server", async () => {
    const { ms, error } = await elapsed(() =>
      adapter(blackHoleUrl, 300).reportMeterEvent({
        eventName: "api_validation",
        stripeCustomerId: "cus_x",
        value: 1,
        identifier: "adapter-timeout",
        timestamp: Math.floor(Date.now() / 1000),
      }),
    );
    expect(String(error)).toMatch(/timeout/i);
    expect(ms).toBeGreaterThanOrEqual(270);
    expect(ms).toBeLessThan(2000);
  });
});
