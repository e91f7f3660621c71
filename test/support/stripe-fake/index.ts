/**
 * A fake Stripe for dev and tests (no local Stripe exists and stripe-mock is not available). It
 * serves the part of the v1 API this project uses, enforces Stripe's documented rules for it (meter
 * event fields, identifier dedupe, timestamp window, idempotency keys, secret-key auth, error
 * shapes), records every request, injects outages, and signs and delivers webhooks with retries.
 *
 *   const stripeFake = await startStripeFake();
 *   // STRIPE_API_BASE = stripeFake.url, STRIPE_SECRET_KEY = stripeFake.apiKey
 *   stripeFake.failNext(2, { status: 429, retryAfterSeconds: 1 }, "/v1/billing/meter_events");
 *   ...
 *   await stripeFake.close();
 */
import type { AddressInfo } from "node:net";
import { createFakeClock } from "./clock";
import { FailureInjector, type FailureMode } from "./failures";
import type { FormObject } from "./form";
import { IdempotencyStore } from "./idempotency";
import { newId } from "./ids";
import { type Customer, type Meter, meterObject } from "./objects/catalog";
import { DEFAULT_API_VERSION, type EventRequest, eventObject, type StripeEvent } from "./objects/events";
import { completeCheckoutSession } from "./resources/checkout";
import { createCustomer } from "./resources/customers";
import { raiseMeterErrorReports, type ThinEventNotification } from "./resources/meter-error-reports";
import { createMeter } from "./resources/meters";
import { endDueSubscriptions, renewSubscription } from "./resources/subscriptions";
import { createFakeServer, type RecordedRequest } from "./server";
import {
  createStore,
  type FakeContext,
  type MeterEvent,
  type MeterEventError,
  type MeterEventRules,
} from "./state";
import {
  type DeliveryPolicy,
  type DeliveryResult,
  deliverPayload,
  type WebhookDelivery,
  WebhookDispatcher,
} from "./webhooks/delivery";
import { stripeSignatureHeader } from "./webhooks/signature";

export type { FailureMode } from "./failures";
export type { CheckoutSession, Subscription } from "./objects/billing";
export type { Customer, Meter, Price, Product } from "./objects/catalog";
export type { StripeEvent } from "./objects/events";
export type { Invoice } from "./objects/invoice";
export type { ThinEventNotification } from "./resources/meter-error-reports";
export type { RecordedRequest } from "./server";
export type { MeterEvent, MeterEventError, MeterEventRules } from "./state";
export type { DeliveryAttempt, DeliveryPolicy, DeliveryResult, WebhookDelivery } from "./webhooks/delivery";

export interface StripeFakeOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** The only secret key accepted (default "sk_test_fake"). */
  apiKey?: string;
  /** Secret used to sign `autoDeliverTo` deliveries and `signWebhookPayload` (default "whsec_fake"). */
  webhookSecret?: string;
  /** Base clock in ms (default `Date.now`); `setNow` / `advance` move the fake's time relative to it. */
  now?: () => number;
  /** `api_version` written into events (default the version stripe-node 23.1 pins). */
  apiVersion?: string;
  /** Event names of sum meters to create at start and after `reset()` (none by default). */
  meters?: string[];
  /** Which meter event checks answer 400 synchronously; see {@link MeterEventRules}. */
  meterEventRules?: Partial<MeterEventRules>;
  /** URLs that receive every event the fake raises, signed with `webhookSecret`. */
  autoDeliverTo?: string | string[];
  /** Retry policy for automatic deliveries (default 4 attempts, 20 ms × 2^n backoff, 10 s timeout). */
  webhookPolicy?: DeliveryPolicy;
  /**
   * Clock for the `t=` in signatures. "wall" (default): real time, which receivers check against
   * their own clock, so moving the fake clock does not make deliveries fail verification. "fake":
   * the fake clock, to exercise a receiver's tolerance.
   */
  signatureClock?: "wall" | "fake";
}

export interface BuildEventOptions {
  id?: string;
  /** Unix seconds (default: fake now). */
  created?: number;
  apiVersion?: string | null;
  previousAttributes?: object;
  pendingWebhooks?: number;
  request?: EventRequest;
}

export interface DeliverWebhookOptions extends DeliveryPolicy {
  url: string;
  /** Signing secret (default the fake's `webhookSecret`). */
  secret?: string;
}

export interface StripeFake {
  /** Base URL, e.g. `http://127.0.0.1:PORT`: use as STRIPE_API_BASE. */
  readonly url: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  /** Every request so far, oldest first. */
  requests(): RecordedRequest[];
  clearRequests(): void;
  /** Back to a fresh account: objects, meter events, requests, failures, idempotency keys, clock offset. */
  reset(): void;
  /** Accepted (billable) meter events, oldest first. */
  meterEvents(): MeterEvent[];
  /** Meter events answered 200 but dropped asynchronously ("report-async" rules only). */
  meterEventErrors(): MeterEventError[];
  /**
   * Raises Stripe's asynchronous error reports (v2 thin events) for meter errors not reported yet
   * and returns the notifications, to deliver with `deliverWebhook(JSON.stringify(n), ...)`.
   */
  raiseMeterErrorReports(): ThinEventNotification[];
  /** Sum of accepted meter event values per Stripe customer id. */
  unitsByCustomer(): Record<string, number>;
  /** The next `count` calls whose path starts with `pathPrefix` (default "/v1/") fail with `mode`. */
  failNext(count: number, mode: FailureMode, pathPrefix?: string): void;
  /** Injected failures not yet used. */
  pendingFailures(): number;
  setMeterEventRules(rules: Partial<MeterEventRules>): void;
  /** Fake time in ms. */
  now(): number;
  setNow(ms: number): void;
  advance(ms: number): void;
  createCustomer(params?: {
    id?: string;
    email?: string;
    name?: string;
    metadata?: Record<string, string>;
  }): Customer;
  createMeter(params: {
    eventName: string;
    displayName?: string;
    customerPayloadKey?: string;
    valuePayloadKey?: string;
  }): Meter;
  /** What a customer does on the hosted checkout page (also `POST /test/checkout/:id/complete`). */
  completeCheckout(
    sessionId: string,
    options?: { email?: string },
  ): ReturnType<typeof completeCheckoutSession>;
  /** Next billing period for a subscription: `paid: false` makes it past_due (`invoice.payment_failed`). */
  renewSubscription(
    subscriptionId: string,
    options?: { paid?: boolean },
  ): ReturnType<typeof renewSubscription>;
  /** The `Stripe-Signature` value for `payload` (default: signing clock now, `webhookSecret`). */
  signWebhookPayload(payload: string, options?: { timestamp?: number; secret?: string }): string;
  /** A Stripe `event` around `object`, stored so `GET /v1/events/:id` finds it; not delivered. */
  buildEvent(type: string, object: object, options?: BuildEventOptions): StripeEvent;
  /** POSTs an event (or a raw payload) as Stripe does, retrying non-2xx answers and timeouts. */
  deliverWebhook(event: StripeEvent | string, options: DeliverWebhookOptions): Promise<DeliveryResult>;
  /** Events the fake raised (and built), oldest first. */
  events(): StripeEvent[];
  /** Automatic deliveries started so far. */
  webhookDeliveries(): WebhookDelivery[];
  /** Resolves when every automatic delivery started so far has finished (delivered or given up). */
  waitForWebhooks(): Promise<void>;
  setAutoDeliverTo(urls: string | string[] | undefined): void;
  /** Stops listening, drops held connections and cancels deliveries: nothing stays open. */
  close(): Promise<void>;
}

const DEFAULT_RULES: MeterEventRules = {
  unknownEventName: "reject",
  unknownCustomer: "reject",
  identifierWindowMs: 24 * 60 * 60 * 1000,
  concurrentCustomerCalls: "reject",
  meterEventLatencyMs: 5,
  valueTooManyDigits: "reject",
  summaryLagMs: 0,
};

const asList = (urls: string | string[] | undefined) => (urls === undefined ? [] : [urls].flat());
const noRequest: EventRequest = { id: null, idempotency_key: null };

export async function startStripeFake(options: StripeFakeOptions = {}): Promise<StripeFake> {
  const apiKey = options.apiKey ?? "sk_test_fake";
  const webhookSecret = options.webhookSecret ?? "whsec_fake";
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  const clock = createFakeClock(options.now);
  const signingSeconds = () =>
    options.signatureClock === "fake" ? clock.nowSeconds() : Math.floor(Date.now() / 1000);
  const store = createStore();
  const requests: RecordedRequest[] = [];
  const failures = new FailureInjector();
  const idempotency = new IdempotencyStore(() => clock.nowMs());
  let autoDeliverTo = asList(options.autoDeliverTo);
  let baseUrl = "";
  const dispatcher = new WebhookDispatcher(
    { nowMs: () => clock.nowMs(), signingSeconds },
    () => options.webhookPolicy ?? {},
  );

  const ctx: FakeContext = {
    store,
    clock,
    rules: { ...DEFAULT_RULES, ...options.meterEventRules },
    apiVersion,
    baseUrl: () => baseUrl,
    emit(type, object, emitOptions = {}) {
      const endpoints = [...store.webhookEndpoints.values()].filter(
        (e) => e.status === "enabled" && (e.enabled_events.includes("*") || e.enabled_events.includes(type)),
      );
      const targets = [
        ...autoDeliverTo.map((url) => ({ url, secret: webhookSecret, endpointId: null })),
        ...endpoints.map((e) => ({ url: e.url, secret: e.secret, endpointId: e.id })),
      ];
      const event = eventObject({
        id: newId("evt_"),
        type,
        created: clock.nowSeconds(),
        apiVersion,
        object,
        previousAttributes: emitOptions.previousAttributes,
        pendingWebhooks: targets.length,
        request: emitOptions.request,
      });
      store.events.set(event.id, event);
      // Stripe sends the event as it was when raised; the stored copy counts down pending_webhooks.
      const payload = JSON.stringify(event, null, 2);
      for (const target of targets) {
        dispatcher.dispatch(event, payload, target, () => {
          event.pending_webhooks -= 1;
        });
      }
      return event;
    },
  };
  const direct = (params: FormObject) => ({ params, pathParams: [], request: noRequest });
  const settleClock = () => endDueSubscriptions(ctx);
  const createFakeMeter = (params: Parameters<StripeFake["createMeter"]>[0]) =>
    createMeter(
      ctx,
      direct({
        event_name: params.eventName,
        display_name: params.displayName ?? params.eventName,
        default_aggregation: { formula: "sum" },
        ...(params.customerPayloadKey && {
          customer_mapping: { event_payload_key: params.customerPayloadKey, type: "by_id" },
        }),
        ...(params.valuePayloadKey && { value_settings: { event_payload_key: params.valuePayloadKey } }),
      }),
    ) as Meter;
  // Seeded meters exist before anyone listens, so they raise no events.
  const seedMeters = () => {
    for (const eventName of options.meters ?? []) {
      const meter = meterObject({
        id: newId("mtr_test_"),
        created: clock.nowSeconds(),
        displayName: eventName,
        eventName,
        formula: "sum",
      });
      store.meters.set(meter.id, meter);
    }
  };
  seedMeters();

  const { server, closeConnections } = createFakeServer({
    ctx,
    apiKey,
    idempotency,
    failures,
    requests,
    beforeRequest: settleClock,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  let closed: Promise<void> | undefined;

  return {
    url: baseUrl,
    apiKey,
    webhookSecret,
    requests: () => [...requests],
    clearRequests: () => {
      requests.length = 0;
    },
    reset() {
      Object.assign(store, createStore());
      requests.length = 0;
      failures.clear();
      idempotency.clear();
      clock.reset();
      ctx.rules = { ...DEFAULT_RULES, ...options.meterEventRules };
      dispatcher.log.length = 0;
      seedMeters();
    },
    meterEvents: () => [...store.meterEvents],
    meterEventErrors: () => [...store.meterEventErrors],
    raiseMeterErrorReports: () => raiseMeterErrorReports(ctx),
    unitsByCustomer() {
      const units: Record<string, number> = {};
      for (const event of store.meterEvents)
        units[event.customer] = (units[event.customer] ?? 0) + event.value;
      return units;
    },
    failNext: (count, mode, pathPrefix) => failures.add(count, mode, pathPrefix),
    pendingFailures: () => failures.pending(),
    setMeterEventRules(rules) {
      ctx.rules = { ...ctx.rules, ...rules };
    },
    now: () => clock.nowMs(),
    setNow(ms) {
      clock.setNow(ms);
      settleClock();
    },
    advance(ms) {
      clock.advance(ms);
      settleClock();
    },
    createCustomer: (params = {}) => createCustomer(ctx, direct(params)) as Customer,
    createMeter: createFakeMeter,
    completeCheckout: (sessionId, completion) => completeCheckoutSession(ctx, sessionId, completion),
    renewSubscription: (subscriptionId, renewal = {}) =>
      renewSubscription(ctx, subscriptionId, renewal.paid ?? true),
    signWebhookPayload: (payload, signing = {}) =>
      stripeSignatureHeader(payload, signing.secret ?? webhookSecret, signing.timestamp ?? signingSeconds()),
    buildEvent(type, object, build = {}) {
      const event = eventObject({
        id: build.id ?? newId("evt_"),
        type,
        created: build.created ?? clock.nowSeconds(),
        apiVersion: build.apiVersion === undefined ? apiVersion : build.apiVersion,
        object,
        previousAttributes: build.previousAttributes,
        pendingWebhooks: build.pendingWebhooks ?? 1,
        request: build.request,
      });
      store.events.set(event.id, event);
      return event;
    },
    deliverWebhook(event, delivery) {
      const payload = typeof event === "string" ? event : JSON.stringify(event, null, 2);
      return deliverPayload(
        payload,
        { url: delivery.url, secret: delivery.secret ?? webhookSecret },
        delivery,
        { nowMs: () => clock.nowMs(), signingSeconds },
        dispatcher.signal,
      );
    },
    events: () => [...store.events.values()],
    webhookDeliveries: () => [...dispatcher.log],
    waitForWebhooks: () => dispatcher.idle(),
    setAutoDeliverTo(urls) {
      autoDeliverTo = asList(urls);
    },
    close() {
      closed ??= (async () => {
        await dispatcher.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        closeConnections();
        await stopped;
      })();
      return closed;
    },
  };
}
