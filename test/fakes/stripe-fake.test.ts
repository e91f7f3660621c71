/**
 * The fake Stripe, driven by the real stripe-node SDK configured as the Worker configures it
 * (fetch client, explicit host/port/protocol, no SDK retries, a timeout) and verified by the SDK's
 * own webhook verifier (SubtleCrypto provider, 300 s tolerance).
 */
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { STRIPE_FIXTURES_FILE } from "../support/fixtures";
import { type StripeEvent, type StripeFake, startStripeFake } from "../support/stripe-fake";

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 10, 2, 12, 0, 0);
const cryptoProvider = Stripe.createSubtleCryptoProvider();

let wallOfFake = START;
let fake: StripeFake;
let stripe: Stripe;

/** The SDK as the Worker configures it: fetch client, explicit base, no SDK retries, a timeout. */
function stripeClient(options: { key?: string; timeoutMs?: number; target?: StripeFake } = {}): Stripe {
  const target = options.target ?? fake;
  const base = new URL(target.url);
  return new Stripe(options.key ?? target.apiKey, {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: Number(base.port),
    protocol: "http",
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? 5_000,
    telemetry: false,
  });
}

/** Awaits a promise expected to reject and returns the error, failing the test if it resolves. */
async function rejection<T = Stripe.errors.StripeError>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error("expected the call to fail");
}

const nowSeconds = () => Math.floor(fake.now() / 1000);

/** A response header from `lastResponse`, whose `headers` is a fetch `Headers` with the fetch client. */
function responseHeader(response: { lastResponse: { headers: unknown } }, name: string): string | null {
  const headers = response.lastResponse.headers;
  if (headers instanceof Headers) return headers.get(name);
  return (headers as Record<string, string>)[name] ?? null;
}

beforeAll(async () => {
  // A frozen base clock: the fake's time moves only through setNow/advance, so boundaries are exact.
  fake = await startStripeFake({ now: () => wallOfFake });
  stripe = stripeClient();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  fake.setAutoDeliverTo(undefined);
  wallOfFake = START;
});

describe("authentication and errors", () => {
  it("answers 401 in Stripe's error shape without a key, with a Request-Id", async () => {
    const response = await fetch(`${fake.url}/v1/customers`);
    expect(response.status).toBe(401);
    expect(response.headers.get("request-id")).toMatch(/^req_\w{14}$/);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/You did not provide an API key/);
  });

  it("rejects a wrong secret key through the SDK as an authentication error", async () => {
    const error = await rejection(stripeClient({ key: "sk_test_wrong_key_1234" }).customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(/^Invalid API Key provided: sk_test_\*+1234$/);
  });

  it("accepts the key as Basic auth too, as curl -u sends it", async () => {
    const response = await fetch(`${fake.url}/v1/customers`, {
      headers: { Authorization: `Basic ${Buffer.from(`${fake.apiKey}:`).toString("base64")}` },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { object: string }).object).toBe("list");
  });

  it("answers unknown paths with a Stripe-style 404", async () => {
    const response = await fetch(`${fake.url}/v1/nothing_here`, {
      headers: { Authorization: `Bearer ${fake.apiKey}` },
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error).toEqual({
      type: "invalid_request_error",
      message: expect.stringContaining("Unrecognized request URL (GET: /v1/nothing_here)"),
    });
  });

  it("answers a missing object with resource_missing and the id in the message", async () => {
    const error = await rejection(stripe.customers.retrieve("cus_missing"));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe("resource_missing");
    expect(error.message).toBe("No such customer: 'cus_missing'");
  });
});

describe("POST /v1/billing/meter_events", () => {
  const EVENT_NAME = "schema_validations";
  let customerId: string;

  beforeEach(async () => {
    await stripe.billing.meters.create({
      display_name: "Schema validations",
      event_name: EVENT_NAME,
      default_aggregation: { formula: "sum" },
    });
    customerId = (await stripe.customers.create({ email: "dev@example.com" })).id;
  });

  const report = (
    fields: Partial<Stripe.Billing.MeterEventCreateParams> = {},
    options?: Stripe.RequestOptions,
  ) =>
    stripe.billing.meterEvents.create(
      {
        event_name: EVENT_NAME,
        payload: { stripe_customer_id: customerId, value: "7" },
        ...fields,
      },
      options,
    );

  it("accepts a valid event, returns billing.meter_event and counts its units", async () => {
    const event = await report({ identifier: "batch-1", timestamp: nowSeconds() - 60 });
    expect(event).toMatchObject({
      object: "billing.meter_event",
      event_name: EVENT_NAME,
      identifier: "batch-1",
      livemode: false,
      payload: { stripe_customer_id: customerId, value: "7" },
      timestamp: nowSeconds() - 60,
      created: nowSeconds(),
    });
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 7 });
    expect(fake.meterEvents()).toHaveLength(1);
    const recorded = fake.requests().at(-1);
    expect(recorded?.path).toBe("/v1/billing/meter_events");
    expect(recorded?.body).toMatchObject({ payload: { stripe_customer_id: customerId, value: "7" } });
    expect(recorded?.idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(recorded?.status).toBe(200);
  });

  it("defaults the timestamp to now and generates an identifier", async () => {
    const event = await report();
    expect(event.timestamp).toBe(nowSeconds());
    expect(event.identifier).toMatch(/\S+/);
  });

  it.each(["1.5", "abc", "1e3", " 2"])("rejects the non-whole value %j with 400", async (value) => {
    const error = await rejection(report({ payload: { stripe_customer_id: customerId, value } }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe("payload[value]");
    expect(fake.unitsByCustomer()).toEqual({});
  });

  it("accepts a negative whole value (Stripe invoices a negative period total as 0)", async () => {
    await report({ payload: { stripe_customer_id: customerId, value: "-3" } });
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: -3 });
  });

  it.each([
    ["event_name", { event_name: "" }, "event_name"],
    ["the customer", { payload: { value: "1" } }, "payload[stripe_customer_id]"],
    ["the value", { payload: { stripe_customer_id: "cus_x" } }, "payload[value]"],
  ] as const)("rejects a missing %s with parameter_missing", async (_label, fields, param) => {
    const error = await rejection(report(fields as Partial<Stripe.Billing.MeterEventCreateParams>));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe("parameter_missing");
    expect(error.param).toBe(param);
  });

  it("rejects a payload that is missing entirely", async () => {
    const response = await fetch(`${fake.url}/v1/billing/meter_events`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${fake.apiKey}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: `event_name=${EVENT_NAME}`,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("payload");
  });

  it("accepts a timestamp exactly 35 days old and rejects one a second older", async () => {
    const oldest = nowSeconds() - 35 * 86_400;
    await expect(report({ identifier: "edge-old", timestamp: oldest })).resolves.toMatchObject({
      timestamp: oldest,
    });
    const error = await rejection(report({ identifier: "too-old", timestamp: oldest - 1 }));
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe("timestamp");
    expect(error.message).toBe(
      `The event timestamp cannot be more than 35 days in past. Expected a timestamp greater than or equal to ${oldest}.`,
    );
    expect(fake.meterEvents().map((e) => e.identifier)).toEqual(["edge-old"]);
  });

  it("accepts a timestamp exactly 5 minutes ahead and rejects one a second further", async () => {
    const latest = nowSeconds() + 300;
    await expect(report({ identifier: "edge-future", timestamp: latest })).resolves.toMatchObject({
      timestamp: latest,
    });
    const error = await rejection(report({ identifier: "too-future", timestamp: latest + 1 }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/cannot be more than 5 minutes in the future/);
  });

  it("judges the 35-day window by the injectable clock", async () => {
    const timestamp = nowSeconds();
    fake.advance(35 * DAY_MS);
    await expect(report({ identifier: "still-ok", timestamp })).resolves.toBeTruthy();
    fake.advance(1_000);
    const error = await rejection(report({ identifier: "now-too-old", timestamp }));
    expect(error.message).toMatch(/more than 35 days in past/);
  });

  it("rejects a non-integer timestamp", async () => {
    const response = await fetch(`${fake.url}/v1/billing/meter_events`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${fake.apiKey}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: `event_name=${EVENT_NAME}&payload[stripe_customer_id]=${customerId}&payload[value]=1&timestamp=soon`,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "parameter_invalid_integer", message: "Invalid integer: soon" });
  });

  it("rejects an unknown customer with 400 resource_missing by default", async () => {
    const error = await rejection(report({ payload: { stripe_customer_id: "cus_nobody", value: "5" } }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe("resource_missing");
    expect(error.param).toBe("payload[stripe_customer_id]");
    expect(fake.unitsByCustomer()).toEqual({});
  });

  it("can instead accept an unknown customer and drop it asynchronously, as Stripe documents", async () => {
    fake.setMeterEventRules({ unknownCustomer: "report-async" });
    await expect(report({ payload: { stripe_customer_id: "cus_nobody", value: "5" } })).resolves.toBeTruthy();
    expect(fake.unitsByCustomer()).toEqual({});
    expect(fake.meterEventErrors()).toMatchObject([
      { code: "meter_event_customer_not_found", customer: "cus_nobody" },
    ]);
  });

  it("rejects an event name no active meter uses, or drops it with report-async", async () => {
    const error = await rejection(report({ event_name: "no_such_meter" }));
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe("event_name");
    fake.setMeterEventRules({ unknownEventName: "report-async" });
    await report({ event_name: "no_such_meter" });
    expect(fake.meterEventErrors()).toMatchObject([{ code: "no_meter", eventName: "no_such_meter" }]);
    expect(fake.unitsByCustomer()).toEqual({});
  });

  it("reads the customer and value from the meter's own payload keys", async () => {
    fake.createMeter({ eventName: "custom_keys", customerPayloadKey: "account", valuePayloadKey: "units" });
    await stripe.billing.meterEvents.create({
      event_name: "custom_keys",
      payload: { account: customerId, units: "11" },
    });
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 11 });
  });

  it("refuses a duplicate identifier as Stripe does and never counts it twice", async () => {
    await report({ identifier: "flush-42" });
    // A retry by a new run: same identifier, new idempotency key (the SDK makes one per call).
    const error = await rejection(
      report({ identifier: "flush-42", payload: { stripe_customer_id: customerId, value: "9" } }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe("An event already exists with identifier flush-42.");
    expect(error.headers?.["stripe-should-retry"]).toBe("false");
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 7 });
  });

  it("forgets an identifier 24 hours (fake time) after first accepting it", async () => {
    await report({ identifier: "daily" });
    fake.advance(DAY_MS - 1_000);
    await expect(report({ identifier: "daily" })).rejects.toThrow(/already exists with identifier daily/);
    fake.advance(1_000);
    await expect(report({ identifier: "daily" })).resolves.toMatchObject({ identifier: "daily" });
    expect(fake.meterEvents()).toHaveLength(2);
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 14 });
  });

  it("replays the saved response for a repeated Idempotency-Key without recording twice", async () => {
    const first = await report({ identifier: "idem-1" }, { idempotencyKey: "flush-run-1" });
    const second = await report({ identifier: "idem-1" }, { idempotencyKey: "flush-run-1" });
    expect(second).toEqual(first);
    expect(responseHeader(second, "idempotent-replayed")).toBe("true");
    expect(responseHeader(second, "original-request")).toBe(first.lastResponse.requestId);
    expect(first.lastResponse.requestId).toMatch(/^req_/);
    expect(fake.meterEvents()).toHaveLength(1);
    expect(fake.requests().map((r) => r.replayed)).toContain(true);
  });

  it("refuses an Idempotency-Key reused with other parameters", async () => {
    await report({ identifier: "idem-2" }, { idempotencyKey: "key-a" });
    const error = await rejection(report({ identifier: "idem-3" }, { idempotencyKey: "key-a" }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error.statusCode).toBe(400);
    expect(fake.meterEvents()).toHaveLength(1);
  });

  it("replays saved errors too, but not parameter-validation failures", async () => {
    const duplicate = () => report({ identifier: "idem-4" }, { idempotencyKey: "key-dup" });
    await report({ identifier: "idem-4" });
    const first = await rejection(duplicate());
    const replay = await rejection(duplicate());
    expect(replay.message).toBe(first.message);
    expect(replay.headers?.["idempotent-replayed"]).toBe("true");

    // A request that fails validation is not saved: the key can still run a corrected request.
    await rejection(
      report({ payload: { stripe_customer_id: customerId, value: "x" } }, { idempotencyKey: "key-v" }),
    );
    await expect(report({ identifier: "idem-5" }, { idempotencyKey: "key-v" })).resolves.toBeTruthy();
  });
});

describe("failNext", () => {
  let customerId: string;
  const report = (client: Stripe, identifier: string) =>
    client.billing.meterEvents.create({
      event_name: "calls",
      identifier,
      payload: { stripe_customer_id: customerId, value: "1" },
    });

  beforeEach(() => {
    fake.createMeter({ eventName: "calls" });
    customerId = fake.createCustomer({ email: "ops@example.com" }).id;
  });

  it("fails the next calls with 500, then recovers", async () => {
    fake.failNext(2, { status: 500 });
    for (const identifier of ["a", "a"]) {
      const error = await rejection(report(stripe, identifier));
      expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect(error.statusCode).toBe(500);
    }
    await expect(report(stripe, "a")).resolves.toMatchObject({ identifier: "a" });
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 1 });
    expect(fake.requests().map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("answers 429 with Retry-After, only on the chosen path", async () => {
    fake.failNext(1, { status: 429, retryAfterSeconds: 2 }, "/v1/billing/meter_events");
    await expect(stripe.customers.list()).resolves.toBeTruthy();
    const error = await rejection(report(stripe, "b"));
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error.statusCode).toBe(429);
    expect(error.code).toBe("rate_limit");
    expect(error.headers?.["retry-after"]).toBe("2");
    expect(fake.pendingFailures()).toBe(0);
  });

  it("answers 503 as an api_error", async () => {
    fake.failNext(1, { status: 503 });
    const error = await rejection(report(stripe, "c"));
    expect(error.statusCode).toBe(503);
    expect(error.type).toBe("StripeAPIError");
  });

  it("never answers on 'timeout' until the client gives up, and the event is not recorded", async () => {
    fake.failNext(1, "timeout");
    const error = await rejection(report(stripeClient({ timeoutMs: 200 }), "d"));
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(error.message).toMatch(/timeout/);
    expect(fake.requests()[0]).toMatchObject({ status: "timeout", injected: "timeout" });
    expect(fake.unitsByCustomer()).toEqual({});
    await expect(report(stripe, "d")).resolves.toBeTruthy();
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 1 });
  });

  it("can lose the answer after accepting: the identifier then blocks a double count", async () => {
    fake.failNext(1, "timeout-after-processing", "/v1/billing/meter_events");
    await rejection(report(stripeClient({ timeoutMs: 200 }), "e"));
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 1 });
    await expect(report(stripe, "e")).rejects.toThrow(/already exists with identifier e/);
    expect(fake.unitsByCustomer()).toEqual({ [customerId]: 1 });
  });

  it("closes promptly even while a request is held open", async () => {
    const other = await startStripeFake();
    other.failNext(1, "timeout");
    const pending = fetch(`${other.url}/v1/customers`, {
      headers: { Authorization: `Bearer ${other.apiKey}` },
    });
    await new Promise((done) => setTimeout(done, 50));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toThrow();
    await expect(fetch(`${other.url}/v1/customers`)).rejects.toThrow();
  });
});

describe("meters, products and prices", () => {
  it("creates and lists meters, one active meter per event name, immutable but for the name", async () => {
    const meter = await stripe.billing.meters.create({
      display_name: "Validations",
      event_name: "validations",
      default_aggregation: { formula: "sum" },
      customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
      value_settings: { event_payload_key: "value" },
    });
    expect(meter).toMatchObject({ object: "billing.meter", status: "active", created: nowSeconds() });
    expect(meter.id).toMatch(/^mtr_test_/);
    const duplicate = await rejection(
      stripe.billing.meters.create({
        display_name: "Again",
        event_name: "validations",
        default_aggregation: { formula: "sum" },
      }),
    );
    expect(duplicate.statusCode).toBe(400);
    const list = await stripe.billing.meters.list({ status: "active" });
    expect(list.data.map((m) => m.id)).toEqual([meter.id]);
    await expect(stripe.billing.meters.update(meter.id, { display_name: "Renamed" })).resolves.toMatchObject({
      display_name: "Renamed",
    });
  });

  it("seeds meters from the `meters` option, again after reset, without raising events", async () => {
    const seeded = await startStripeFake({ meters: ["schema_validations"] });
    try {
      const client = stripeClient({ target: seeded });
      const list = async () => (await client.billing.meters.list()).data.map((m) => m.event_name);
      expect(await list()).toEqual(["schema_validations"]);
      seeded.reset();
      expect(await list()).toEqual(["schema_validations"]);
      expect(seeded.events().filter((e) => e.type.startsWith("billing.meter"))).toEqual([]);
    } finally {
      await seeded.close();
    }
  });

  it("requires a meter on metered prices (legacy usage billing is gone since 2025-03-31.basil)", async () => {
    const product = await stripe.products.create({ name: "API" });
    const error = await rejection(
      stripe.prices.create({
        product: product.id,
        currency: "usd",
        unit_amount: 1,
        recurring: { interval: "month", usage_type: "metered" },
      }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe("recurring[meter]");
  });

  it("lets a setup script find prices by lookup_keys and keeps lookup keys unique", async () => {
    const meter = fake.createMeter({ eventName: "validations" });
    const product = await stripe.products.create({ id: "prod_schema_meter", name: "Schema validation API" });
    expect(product.id).toBe("prod_schema_meter");
    await expect(stripe.products.create({ id: "prod_schema_meter", name: "Again" })).rejects.toThrow(
      /already exists/,
    );
    const metered = { interval: "month", usage_type: "metered", meter: meter.id } as const;
    const pro = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount_decimal: Stripe.Decimal.from("0.5"),
      recurring: metered,
      lookup_key: "pro_monthly",
    });
    expect(pro).toMatchObject({ unit_amount: null, type: "recurring" });
    expect(String(pro.unit_amount_decimal)).toBe("0.5");
    await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 0,
      recurring: metered,
      lookup_key: "free_monthly",
    });
    await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 99 });

    const found = await stripe.prices.list({ lookup_keys: ["pro_monthly", "free_monthly"] });
    expect(found.data.map((p) => p.lookup_key).sort()).toEqual(["free_monthly", "pro_monthly"]);
    expect(
      found.data.every((p) => p.recurring?.meter === meter.id && p.recurring.usage_type === "metered"),
    ).toBe(true);

    const clash = await rejection(
      stripe.prices.create({
        product: product.id,
        currency: "usd",
        unit_amount: 2,
        lookup_key: "pro_monthly",
      }),
    );
    expect(clash.statusCode).toBe(400);
    expect(clash.param).toBe("lookup_key");
    const moved = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2,
      lookup_key: "pro_monthly",
      transfer_lookup_key: true,
    });
    const after = await stripe.prices.list({ lookup_keys: ["pro_monthly"] });
    expect(after.data.map((p) => p.id)).toEqual([moved.id]);
    expect((await stripe.prices.retrieve(pro.id)).lookup_key).toBeNull();
  });
});

/** A tiny webhook receiver: answers with `respond(attempt)` and keeps what it got. */
async function startReceiver(respond: (attempt: number) => number | "hang" = () => 200) {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = respond(received.length);
      if (answer === "hang") return;
      res.writeHead(answer, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const verify = (body: string, signature: string, secret = fake.webhookSecret) =>
  stripe.webhooks.constructEventAsync(body, signature, secret, 300, cryptoProvider);

describe("checkout, subscriptions and the billing portal", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let meteredPrice: Stripe.Price;
  let flatPrice: Stripe.Price;

  beforeEach(async () => {
    receiver = await startReceiver();
    fake.setAutoDeliverTo(receiver.url);
    const meter = fake.createMeter({ eventName: "validations" });
    const product = await stripe.products.create({ name: "API" });
    meteredPrice = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 1,
      lookup_key: "pro_usage",
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    flatPrice = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2_000,
      lookup_key: "pro_base",
      recurring: { interval: "month" },
    });
  });

  afterEach(async () => {
    await fake.waitForWebhooks();
    await receiver.close();
  });

  async function checkout(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
    const customer = await stripe.customers.create({ email: "buyer@example.com" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: meteredPrice.id }, { price: flatPrice.id, quantity: 1 }],
      success_url: "https://app.example/billing/success?session={CHECKOUT_SESSION_ID}",
      cancel_url: "https://app.example/billing/cancel",
      client_reference_id: "acct_123",
      metadata: { account: "acct_123" },
      ...extra,
    });
    return { customer, session };
  }

  it("creates an open session whose url is served by the fake", async () => {
    const { customer, session } = await checkout();
    expect(session).toMatchObject({
      object: "checkout.session",
      mode: "subscription",
      status: "open",
      payment_status: "unpaid",
      customer: customer.id,
      client_reference_id: "acct_123",
      metadata: { account: "acct_123" },
      amount_total: 2_000,
      created: nowSeconds(),
      expires_at: nowSeconds() + 86_400,
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url?.startsWith(`${fake.url}/checkout/pay/`)).toBe(true);
    const page = await fetch(session.url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Pay");
  });

  it("refuses a quantity on a metered line, a missing one on a licensed line, and customer with customer_email", async () => {
    const cases: Array<[Partial<Stripe.Checkout.SessionCreateParams>, string]> = [
      [{ line_items: [{ price: meteredPrice.id, quantity: 3 }] }, "line_items[0][quantity]"],
      [{ line_items: [{ price: flatPrice.id }] }, "line_items[0][quantity]"],
      [{ customer_email: "x@example.com" }, "customer_email"],
    ];
    for (const [extra, param] of cases) {
      const error = await rejection(checkout(extra));
      expect(error.statusCode).toBe(400);
      expect(error.param).toBe(param);
    }
  });

  it("completes through the test hook: subscription, invoice and signed events delivered", async () => {
    const { customer, session } = await checkout();
    const response = await fetch(`${fake.url}/test/checkout/${session.id}/complete`, { method: "POST" });
    expect(response.status).toBe(200);
    const completed = (await response.json()) as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ status: "complete", payment_status: "paid", customer: customer.id });

    const subscription = await stripe.subscriptions.retrieve(completed.subscription as string);
    expect(subscription).toMatchObject({
      status: "active",
      customer: customer.id,
      cancel_at_period_end: false,
    });
    expect(subscription.items.data.map((item) => item.price.lookup_key).sort()).toEqual([
      "pro_base",
      "pro_usage",
    ]);
    const item = subscription.items.data[0];
    expect(item?.current_period_start).toBe(nowSeconds());
    expect(item?.current_period_end).toBe(Date.UTC(2026, 11, 2, 12) / 1000);

    const types = fake.events().map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["customer.subscription.created", "invoice.paid", "checkout.session.completed"]),
    );
    const completedEvent = fake.events().find((e) => e.type === "checkout.session.completed") as StripeEvent;
    const fetched = await stripe.events.retrieve(completedEvent.id);
    expect(fetched).toMatchObject({ object: "event", livemode: false, data: { object: { id: session.id } } });
    expect(fetched.id).toMatch(/^evt_/);

    await fake.waitForWebhooks();
    const delivered = await Promise.all(
      receiver.received.map((r) => verify(r.body, r.headers["stripe-signature"] as string)),
    );
    expect(delivered.map((e) => e.type)).toEqual(fake.events().map((e) => e.type));
    expect(fake.webhookDeliveries().every((d) => d.delivered)).toBe(true);
    expect((await stripe.events.retrieve(completedEvent.id)).pending_webhooks).toBe(0);
  });

  it("creates the customer from customer_email and marks a metered-only plan no_payment_required", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer_email: "new@example.com",
      line_items: [{ price: meteredPrice.id }],
      success_url: "https://app.example/ok",
    });
    const { session: completed, invoice } = fake.completeCheckout(session.id);
    expect(completed.payment_status).toBe("no_payment_required");
    expect(invoice).toMatchObject({ status: "paid", amount_due: 0 });
    const customer = await stripe.customers.retrieve(completed.customer as string);
    expect(customer).toMatchObject({ email: "new@example.com" });
    const types = fake.events().map((e) => e.type);
    expect(types.indexOf("customer.created")).toBeGreaterThan(-1);
    expect(types.indexOf("customer.created")).toBeLessThan(types.indexOf("customer.subscription.created"));
    expect(() => fake.completeCheckout(session.id)).toThrow(/complete/);
  });

  it("redirects the hosted page to success_url with the session id filled in", async () => {
    const { session } = await checkout();
    const response = await fetch(session.url as string, { method: "POST", redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `https://app.example/billing/success?session=${session.id}`,
    );
  });

  it("cancels at period end, then ends the subscription when the fake clock passes it", async () => {
    const { session } = await checkout();
    const { subscription } = fake.completeCheckout(session.id);
    const updated = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect(updated).toMatchObject({ cancel_at_period_end: true, status: "active" });
    const periodEnd = updated.items.data[0]?.current_period_end as number;
    expect(updated.cancel_at).toBe(periodEnd);
    const updateEvent = fake.events().at(-1) as StripeEvent;
    expect(updateEvent.type).toBe("customer.subscription.updated");
    expect(updateEvent.data.previous_attributes).toMatchObject({ cancel_at_period_end: false });
    expect(updateEvent.request.id).toMatch(/^req_/);

    fake.setNow(periodEnd * 1000);
    const ended = await stripe.subscriptions.retrieve(subscription.id);
    expect(ended).toMatchObject({ status: "canceled", ended_at: periodEnd });
    expect(fake.events().at(-1)?.type).toBe("customer.subscription.deleted");
  });

  it("cancels immediately with DELETE", async () => {
    const { session } = await checkout();
    const { subscription } = fake.completeCheckout(session.id);
    const canceled = await stripe.subscriptions.cancel(subscription.id);
    expect(canceled).toMatchObject({ status: "canceled", canceled_at: nowSeconds(), ended_at: nowSeconds() });
    expect(fake.events().at(-1)).toMatchObject({ type: "customer.subscription.deleted" });
    await expect(stripe.subscriptions.cancel(subscription.id)).rejects.toThrow(/already been canceled/);
  });

  it("renews into past_due with invoice.payment_failed when a renewal is not paid", async () => {
    const { session } = await checkout();
    const { subscription } = fake.completeCheckout(session.id);
    const response = await fetch(`${fake.url}/test/subscriptions/${subscription.id}/renew`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "paid=false",
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Stripe.Subscription).status).toBe("past_due");
    const failed = fake.events().find((e) => e.type === "invoice.payment_failed");
    expect(failed?.data.object).toMatchObject({
      status: "open",
      billing_reason: "subscription_cycle",
      parent: { subscription_details: { subscription: subscription.id } },
    });
    fake.renewSubscription(subscription.id, { paid: true });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe("active");
  });

  it("creates billing portal sessions for existing customers only", async () => {
    const customer = await stripe.customers.create({ email: "portal@example.com" });
    const portal = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://app.example/account",
    });
    expect(portal).toMatchObject({
      object: "billing_portal.session",
      customer: customer.id,
      livemode: false,
    });
    expect(portal.id).toMatch(/^bps_/);
    expect(portal.url.startsWith(`${fake.url}/billing_portal/session/`)).toBe(true);
    expect((await fetch(portal.url)).status).toBe(200);
    const error = await rejection(stripe.billingPortal.sessions.create({ customer: "cus_nobody" }));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe("resource_missing");
  });
});

describe("webhook signatures and delivery", () => {
  const payloadOf = (event: StripeEvent) => JSON.stringify(event, null, 2);

  it("builds events shaped like the fixture's and signs them so the SDK verifies them", async () => {
    const event = fake.buildEvent("customer.subscription.deleted", { id: "sub_123", object: "subscription" });
    expect(event).toMatchObject({
      object: "event",
      livemode: false,
      created: nowSeconds(),
      api_version: "2026-10-28.endive",
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { id: "sub_123" } },
    });
    expect(event.id).toMatch(/^evt_/);
    const body = payloadOf(event);
    const verified = await verify(body, fake.signWebhookPayload(body));
    expect(verified.id).toBe(event.id);
  });

  it("computes the same header as the SDK's own test helper", async () => {
    const body = '{"id":"evt_1","object":"event"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const expected = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret: fake.webhookSecret,
      timestamp,
      cryptoProvider,
    });
    expect(fake.signWebhookPayload(body, { timestamp })).toBe(expected);
  });

  it("fails verification for a tampered body, a wrong secret and an old timestamp", async () => {
    const body = payloadOf(fake.buildEvent("invoice.paid", { id: "in_1", object: "invoice" }));
    const signature = fake.signWebhookPayload(body);
    await expect(verify(body.replace("in_1", "in_2"), signature)).rejects.toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    await expect(verify(body, signature, "whsec_other")).rejects.toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    const stale = fake.signWebhookPayload(body, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    await expect(verify(body, stale)).rejects.toThrow(/Timestamp outside the tolerance zone/);
    const recent = fake.signWebhookPayload(body, { timestamp: Math.floor(Date.now() / 1000) - 200 });
    await expect(verify(body, recent)).resolves.toMatchObject({ type: "invoice.paid" });
  });

  it("retries until the receiver answers 2xx, signing each attempt like Stripe", async () => {
    const receiver = await startReceiver((attempt) => (attempt < 3 ? 500 : 200));
    try {
      const event = fake.buildEvent("checkout.session.completed", {
        id: "cs_test_1",
        object: "checkout.session",
      });
      const result = await fake.deliverWebhook(event, { url: receiver.url, backoffMs: () => 5 });
      expect(result.delivered).toBe(true);
      expect(result.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
      for (const { headers, body } of receiver.received) {
        expect(headers["content-type"]).toBe("application/json; charset=utf-8");
        expect(headers["user-agent"]).toBe("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        await expect(verify(body, headers["stripe-signature"] as string)).resolves.toMatchObject({
          id: event.id,
        });
      }
    } finally {
      await receiver.close();
    }
  });

  it("gives up after maxAttempts and treats a hung receiver as a failed attempt", async () => {
    const receiver = await startReceiver((attempt) => (attempt === 1 ? "hang" : 503));
    try {
      const event = fake.buildEvent("invoice.paid", { id: "in_2", object: "invoice" });
      const result = await fake.deliverWebhook(event, {
        url: receiver.url,
        maxAttempts: 3,
        timeoutMs: 100,
        backoffMs: () => 1,
      });
      expect(result.delivered).toBe(false);
      expect(result.attempts.map((a) => a.status)).toEqual(["error", 503, 503]);
      expect(receiver.received).toHaveLength(3);
    } finally {
      await receiver.close();
    }
  });

  it("delivers raised events to registered endpoints with their own secret and event filter", async () => {
    const receiver = await startReceiver((attempt) => (attempt === 1 ? 500 : 200));
    try {
      const endpoint = await stripe.webhookEndpoints.create({
        url: receiver.url,
        enabled_events: ["customer.created"],
      });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();
      const customer = await stripe.customers.create({ email: "hook@example.com" });
      await stripe.customers.update(customer.id, { name: "Not delivered: not enabled" });
      await fake.waitForWebhooks();
      expect(receiver.received).toHaveLength(2);
      const event = await verify(
        receiver.received[1]?.body as string,
        receiver.received[1]?.headers["stripe-signature"] as string,
        endpoint.secret as string,
      );
      expect(event).toMatchObject({ type: "customer.created", data: { object: { id: customer.id } } });
      expect(fake.webhookDeliveries()).toMatchObject([{ endpointId: endpoint.id, delivered: true }]);
    } finally {
      await receiver.close();
    }
  });
});

describe("object shapes", () => {
  const fixturesPath = STRIPE_FIXTURES_FILE;

  it("carry every top-level field of the fixture objects", async () => {
    expect(existsSync(fixturesPath), `Stripe fixtures not found at ${fixturesPath}`).toBe(true);
    const fixtures = JSON.parse(readFileSync(fixturesPath, "utf8")).resources as Record<string, object>;
    const meter = fake.createMeter({ eventName: "shape" });
    const product = await stripe.products.create({ name: "Shape" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 10,
      recurring: { interval: "month" },
    });
    const customer = await stripe.customers.create({ email: "shape@example.com" });
    const meterEvent = await stripe.billing.meterEvents.create({
      event_name: "shape",
      payload: { stripe_customer_id: customer.id, value: "1" },
    });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "https://app.example/ok",
    });
    const { subscription, invoice } = fake.completeCheckout(session.id);
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const endpoint = await stripe.webhookEndpoints.create({
      url: "https://app.example/hook",
      enabled_events: ["*"],
    });
    const event = fake.events().at(-1);
    const samples: Record<string, object | undefined> = {
      customer,
      product,
      price,
      "billing.meter": meter,
      "billing.meter_event": meterEvent,
      "checkout.session": session,
      subscription,
      subscription_item: subscription.items.data[0],
      invoice,
      "billing_portal.session": portal,
      webhook_endpoint: endpoint,
      event,
    };
    for (const [name, sample] of Object.entries(samples)) {
      const expected = Object.keys(fixtures[name] ?? {}).sort();
      expect(expected.length, name).toBeGreaterThan(0);
      const actual = Object.keys(sample ?? {}).filter((key) => key !== "lastResponse");
      expect({ name, missing: expected.filter((key) => !actual.includes(key)) }).toEqual({
        name,
        missing: [],
      });
      expect((sample as { object?: string }).object, name).toBe(name);
    }
  });
});
