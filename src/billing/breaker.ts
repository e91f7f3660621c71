/**
 * The circuit breaker around Stripe, shared by every isolate through Redis (one atomic script,
 * `stripe-breaker.ts`, holds the state machine). When Redis itself cannot be reached the breaker
 * falls back to counting this run's failures only: billing keeps flowing from the Postgres ledger,
 * and a run stops after `failureThreshold` consecutive failures rather than hammering Stripe.
 */
import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import { log } from "../lib/log";
import type { BreakerReply, BreakerState } from "./breaker-state";

export interface StripeBreakerOptions {
  /** Consecutive failed calls that open the breaker. Default 5 (STRIPE_BREAKER_FAILURE_THRESHOLD). */
  failureThreshold?: number;
  /** How long it stays open before one probe goes through. Default 60 s (STRIPE_BREAKER_OPEN_SECONDS). */
  openSeconds?: number;
  /** How long the probe may take before another caller may probe instead. Default 30 s. */
  probeLeaseMs?: number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
}

export type BreakerPermit = "allowed" | "probe" | "refused";

export class StripeBreaker {
  private readonly token = `b_${crypto.randomUUID()}`;
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly probeLeaseMs: number;
  private readonly now: () => number;
  /** Consecutive failures seen by this caller while Redis was unreachable. */
  private localFailures = 0;
  private lastState: BreakerState | "unknown" = "unknown";

  constructor(
    private readonly redis: RedisAdapter,
    options: StripeBreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? 5;
    this.openMs = (options.openSeconds ?? 60) * 1000;
    this.probeLeaseMs = options.probeLeaseMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The state last seen (or "unknown" before the first call or while Redis is unreachable). */
  get state(): BreakerState | "unknown" {
    return this.lastState;
  }

  /** May this caller call Stripe now? "probe": yes, as the one half-open probe. */
  async acquire(): Promise<BreakerPermit> {
    const reply = await this.call("acquire");
    if (!reply) return this.localFailures >= this.threshold ? "refused" : "allowed";
    return reply.verdict;
  }

  /** Reports the outcome of the calls made under the last permit. */
  async report(failures: number): Promise<void> {
    if (failures > 0) this.localFailures += failures;
    else this.localFailures = 0;
    await this.call(failures > 0 ? "failure" : "success", failures);
  }

  /** The shared state without changing it. */
  async read(): Promise<BreakerReply | null> {
    return this.call("state");
  }

  private async call(
    op: "acquire" | "success" | "failure" | "state",
    failures = 1,
  ): Promise<BreakerReply | null> {
    try {
      const reply = await this.redis.stripeBreaker({
        op,
        nowMs: this.now(),
        token: this.token,
        failureThreshold: this.threshold,
        openMs: this.openMs,
        probeLeaseMs: this.probeLeaseMs,
        failures,
      });
      if (reply.state !== this.lastState && this.lastState !== "unknown") {
        log(reply.state === "closed" ? "info" : "warn", "stripe circuit breaker changed state", {
          from: this.lastState,
          to: reply.state,
          consecutive_failures: reply.consecutiveFailures,
          open_until: reply.openUntilMs ? new Date(reply.openUntilMs).toISOString() : null,
        });
      }
      this.lastState = reply.state;
      return reply;
    } catch (error) {
      log("warn", "stripe circuit breaker unreachable; counting failures locally", {
        op,
        error: describeRedisError(error),
      });
      this.lastState = "unknown";
      return null;
    }
  }
}
