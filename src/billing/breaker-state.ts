/** The Stripe circuit breaker's shared state, as its script in Redis keeps it (see breaker.ts). */

export type BreakerState = "closed" | "open" | "half_open";

/** A breaker operation; `token` identifies the caller so only the probe can close or re-open. */
export interface BreakerCommand {
  op: "acquire" | "success" | "failure" | "state";
  nowMs: number;
  token: string;
  failureThreshold: number;
  openMs: number;
  probeLeaseMs: number;
  /** Failures to add (op "failure"). Default 1. */
  failures?: number;
}

export interface BreakerReply {
  /** "probe": allowed as the single half-open probe. */
  verdict: "allowed" | "probe" | "refused";
  state: BreakerState;
  consecutiveFailures: number;
  /** When an open breaker lets a probe through, ms since the epoch; 0 when not open. */
  openUntilMs: number;
}
