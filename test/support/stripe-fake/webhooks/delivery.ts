/**
 * Webhook delivery as Stripe does it: a POST of the event JSON with `Stripe-Signature`, signed
 * afresh at each attempt; any non-2xx answer, error or timeout is retried with backoff. Stripe
 * retries "three times over a few hours" in test mode (up to three days live); here the count is
 * an option (default 4 attempts = 1 + 3 retries) and the backoff is compressed for tests.
 */
import http from "node:http";
import https from "node:https";
import { stripeSignatureHeader } from "./signature";

export const WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

export interface DeliveryAttempt {
  status: number | "error";
  /** Fake-clock ms when the attempt finished. */
  at: number;
  error?: string;
}

export interface DeliveryResult {
  attempts: DeliveryAttempt[];
  delivered: boolean;
}

export interface DeliveryPolicy {
  /** Attempts in total, the first included (default 4: Stripe's test mode retries 3 times). */
  maxAttempts?: number;
  /** Wait before attempt `n + 1` after attempt `n` failed (default 20 ms × 2^(n-1)). */
  backoffMs?: (attempt: number) => number;
  /** Give up on one attempt after this long (default 10 000 ms). */
  timeoutMs?: number;
}

export interface DeliveryTarget {
  url: string;
  secret: string;
}

export interface DeliveryClocks {
  /** Fake-clock ms, for `attempts[].at`. */
  nowMs(): number;
  /** Unix seconds written into `t=` of each signature. */
  signingSeconds(): number;
}

const defaultBackoff = (attempt: number) => 20 * 2 ** (attempt - 1);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** One POST on a fresh connection (`agent: false`), so nothing stays open after it. */
function postOnce(
  target: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
) {
  return new Promise<number>((resolve, reject) => {
    const url = new URL(target);
    const client = url.protocol === "https:" ? https : http;
    const request = client.request(
      url,
      {
        method: "POST",
        agent: false,
        signal,
        headers: { ...headers, "Content-Length": Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end(body);
  });
}

/** Delivers `payload` (the event JSON) to one URL, retrying until a 2xx or the attempts run out. */
export async function deliverPayload(
  payload: string,
  target: DeliveryTarget,
  policy: DeliveryPolicy,
  clocks: DeliveryClocks,
  signal: AbortSignal,
  onFirstAttempt?: () => void,
): Promise<DeliveryResult> {
  const maxAttempts = policy.maxAttempts ?? 4;
  const backoffMs = policy.backoffMs ?? defaultBackoff;
  const attempts: DeliveryAttempt[] = [];
  for (let attempt = 1; attempt <= maxAttempts && !signal.aborted; attempt++) {
    const headers = {
      "Content-Type": "application/json; charset=utf-8",
      "User-Agent": WEBHOOK_USER_AGENT,
      "Cache-Control": "no-cache",
      Accept: "*/*; q=0.5, application/xml",
      "Stripe-Signature": stripeSignatureHeader(payload, target.secret, clocks.signingSeconds()),
    };
    try {
      const status = await postOnce(target.url, payload, headers, policy.timeoutMs ?? 10_000, signal);
      attempts.push({ status, at: clocks.nowMs() });
      if (status >= 200 && status < 300) return { attempts, delivered: true };
    } catch (error) {
      attempts.push({ status: "error", at: clocks.nowMs(), error: (error as Error).message });
    } finally {
      if (attempt === 1) onFirstAttempt?.();
    }
    if (attempt < maxAttempts) await sleep(backoffMs(attempt), signal);
  }
  return { attempts, delivered: false };
}

/** A delivery the fake started by itself, as tests can inspect it. */
export interface WebhookDelivery {
  eventId: string;
  eventType: string;
  url: string;
  /** The registered endpoint, or null for `autoDeliverTo` targets. */
  endpointId: string | null;
  attempts: DeliveryAttempt[];
  delivered: boolean;
  done: boolean;
}

/**
 * Background deliveries of the events the fake raises. Per target, first attempts go out in event
 * order; retries then run on their own, so a failed event can arrive after later ones, as on Stripe.
 */
export class WebhookDispatcher {
  private readonly controller = new AbortController();
  private readonly inflight = new Set<Promise<void>>();
  private readonly queues = new Map<string, Promise<void>>();
  readonly log: WebhookDelivery[] = [];

  constructor(
    private readonly clocks: DeliveryClocks,
    private readonly policy: () => DeliveryPolicy,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispatch(
    event: { id: string; type: string },
    payload: string,
    target: DeliveryTarget & { endpointId: string | null },
    onDelivered: () => void,
  ): void {
    if (this.controller.signal.aborted) return;
    const record: WebhookDelivery = {
      eventId: event.id,
      eventType: event.type,
      url: target.url,
      endpointId: target.endpointId,
      attempts: [],
      delivered: false,
      done: false,
    };
    this.log.push(record);
    const previous = this.queues.get(target.url) ?? Promise.resolve();
    let releaseQueue = () => {};
    const myTurnDone = new Promise<void>((resolve) => {
      releaseQueue = resolve;
    });
    this.queues.set(target.url, myTurnDone);
    const run = (async () => {
      await previous;
      const result = await deliverPayload(
        payload,
        target,
        this.policy(),
        this.clocks,
        this.signal,
        releaseQueue,
      );
      releaseQueue();
      Object.assign(record, result, { done: true });
      if (result.delivered) onDelivered();
    })();
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  /** Resolves once every delivery started so far (and any they trigger) has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Cancels pending retries and in-flight requests. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.idle();
  }
}
