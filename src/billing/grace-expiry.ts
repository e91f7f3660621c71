/**
 * Grace expiry at the edge: when a past-due account's grace period ends, Postgres refuses new
 * tokens at once (the edge state's `deny` is computed when read), but Redis, which the hot path
 * reads, would only learn at the next Stripe event, so live tokens would keep working for up to
 * TOKEN_TTL_SECONDS. The cron run (every minute) closes that gap: it asks Postgres for accounts
 * whose grace has ended and whose denial Redis has not acknowledged, and writes their edge state
 * with the same versioned script as the webhook path (migrations/0005_grace_expiry.sql says why a
 * racing webhook can never be overwritten by an older state, and why a repeat is harmless).
 */
import { z } from "zod";
import { TOKEN_DENY_TTL_SECONDS } from "../access/accounts";
import { edgeStateOf, edgeStateRowSchema } from "../access/edge-state";
import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { describeError, log } from "../lib/log";

const edgeStatesSchema = z.array(edgeStateRowSchema);

/** Accounts handled per run by default; the rest wait for the next run (a minute). */
export const GRACE_EXPIRY_MAX_ACCOUNTS = 200;
/** Redis writes in flight at once (a Worker may hold six connections). */
const WRITE_CONCURRENCY = 6;

export interface GraceExpiryDeps {
  db: DatabaseAdapter;
  redis: RedisAdapter;
  /** Accounts per run. Default GRACE_EXPIRY_MAX_ACCOUNTS. */
  maxAccounts?: number;
}

/** What one run did; logged as one line. */
export interface GraceExpiryReport {
  /** Accounts whose grace had ended and whose denial Redis had not acknowledged. */
  expired: number;
  /** Of those, written to Redis now. */
  denied: number;
  /** Of those, skipped by Redis because a newer state (a later event) is already there. */
  superseded: number;
  /** Redis writes that failed: retried by the next run. */
  failed: number;
  /** True when the run hit its account limit: more may be waiting. */
  more: boolean;
  /** The states written or superseded, as Postgres decided them (not logged). */
  accounts: { account_id: string; version: number; written: boolean }[];
  errors: string[];
}

/**
 * Denies at the edge every past-due account whose grace has ended (at most `maxAccounts`). Never
 * throws: a failure is logged and reported, and the next run tries again.
 */
export async function enforceGraceExpiry(deps: GraceExpiryDeps): Promise<GraceExpiryReport> {
  const limit = deps.maxAccounts ?? GRACE_EXPIRY_MAX_ACCOUNTS;
  const report: GraceExpiryReport = {
    expired: 0,
    denied: 0,
    superseded: 0,
    failed: 0,
    more: false,
    accounts: [],
    errors: [],
  };
  try {
    const states = edgeStatesSchema.parse(
      await deps.db.rpc<unknown>("billing_expire_grace", { p_limit: limit }),
    );
    report.expired = states.length;
    report.more = states.length >= limit;
    for (let i = 0; i < states.length; i += WRITE_CONCURRENCY) {
      const chunk = states.slice(i, i + WRITE_CONCURRENCY);
      const results = await Promise.allSettled(
        chunk.map((state) => deps.redis.applyEdgeState(edgeStateOf(state), TOKEN_DENY_TTL_SECONDS)),
      );
      for (const [j, result] of results.entries()) {
        const state = chunk[j] as (typeof chunk)[number];
        if (result.status === "rejected") {
          report.failed += 1;
          const reason = `redis: ${describeRedisError(result.reason)}`;
          if (!report.errors.includes(reason)) report.errors.push(reason);
          continue;
        }
        if (result.value) report.denied += 1;
        else report.superseded += 1;
        report.accounts.push({ account_id: state.account_id, version: state.version, written: result.value });
      }
    }
    // Confirmed only once Redis holds this version or a newer one; unconfirmed ones come back next run.
    if (report.accounts.length > 0) {
      await deps.db.rpc<unknown>("billing_confirm_grace_denied", {
        p_states: report.accounts.map(({ account_id, version }) => ({ account_id, version })),
      });
    }
  } catch (error) {
    report.errors.push(`database: ${describeError(error)}`);
  }
  log(report.errors.length > 0 ? "warn" : "info", "grace expiry enforced", {
    expired: report.expired,
    denied: report.denied,
    superseded: report.superseded,
    failed: report.failed,
    more: report.more,
    errors: report.errors.join("; ") || undefined,
  });
  return report;
}
