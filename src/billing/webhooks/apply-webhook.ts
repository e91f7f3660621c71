/**
 * Stripe webhooks: verify, apply exactly once in Postgres (with the dunning e-mail the event calls
 * for, recorded in the same transaction; dunning-run.ts sends it after the commit), then tell the
 * edge (Redis).
 *
 * Why the edge write comes after the commit, and what happens when it fails: Postgres is the
 * record; Redis only mirrors the account's derived state for the hot path. `apply_stripe_event`
 * returns that state (tier, deny, version) read inside its transaction, for a new event and for a
 * duplicate alike. The Worker writes it with a versioned script (older versions never overwrite
 * newer ones) and retries once; if Redis still fails, the webhook answers 503, Stripe redelivers,
 * the redelivery is a no-op in Postgres and re-applies the current state to Redis. The write is
 * idempotent, so repeating it is harmless. If Stripe gives up, tokens minted from Postgres carry
 * the right tier and status within one token lifetime (TOKEN_TTL_SECONDS, at most an hour).
 */
import { z } from "zod";
import { TOKEN_DENY_TTL_SECONDS } from "../../access/accounts";
import { edgeStateOf, edgeStateRowSchema } from "../../access/edge-state";
import type { RedisAdapter } from "../../adapters/redis";
import type { StripeAdapter } from "../../adapters/stripe";
import type { DatabaseAdapter } from "../../adapters/supabase";
import type { Config } from "../../config";
import { describeError, log } from "../../lib/log";
import { Refusal } from "../../refusal";
import { billingPeriodsOf } from "./billing-periods";
import {
  type StripeEventFact,
  stripeEventFact,
  type TierCatalog,
  verifiedStripeEventSchema,
} from "./stripe-event";

export const EVENT_OUTCOMES = ["applied", "stale", "unmatched", "ignored", "conflict"] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

const appliedSchema = z.object({
  duplicate: z.boolean(),
  outcome: z.enum(EVENT_OUTCOMES),
  account_id: z.string().nullable(),
  edge: edgeStateRowSchema.nullable(),
  /** The dunning notice this event recorded in its transaction (migrations/0015), if any. */
  notice: z.enum(["payment_failed", "payment_recovered"]).nullable(),
});

/** What the webhook answers (Stripe only looks at the status; operators read the body in logs). */
export interface WebhookReceipt {
  received: true;
  id: string;
  type: string;
  outcome: EventOutcome;
  duplicate: boolean;
}

export interface WebhookDeps {
  db: DatabaseAdapter;
  redis: RedisAdapter;
  stripe: StripeAdapter;
  config: Config;
  requestId: string;
  /**
   * Called once the event's transaction has committed a dunning notice, before the Redis write (so
   * a Redis failure does not hold the e-mail back): the route hands the send to `waitUntil`.
   */
  onNoticeRecorded?: () => void;
}

/** BILLING_PRICE_LOOKUP_KEYS and RATE_LIMIT_TIERS, as the event normaliser needs them. */
export function tierCatalogOf(config: Config): TierCatalog {
  return {
    lookupKeys: config.BILLING_PRICE_LOOKUP_KEYS,
    knownTiers: new Set(Object.keys(config.RATE_LIMIT_TIERS)),
  };
}

/** The one answer to any signature problem (400, no detail), for every Stripe endpoint. */
export const signatureRefused = () =>
  new Refusal("WEBHOOK_SIGNATURE_INVALID", "The webhook signature could not be verified.");

/**
 * POST /webhooks/stripe: checks `Stripe-Signature` over the raw body, applies the event once
 * (a duplicate is a no-op that still succeeds), then writes the account's state to Redis.
 * 400 for any signature problem (no detail), 500 when Postgres fails, 503 when Redis does:
 * every failure is a non-2xx, so Stripe retries.
 */
export async function applyStripeWebhook(
  deps: WebhookDeps,
  rawBody: string,
  signature: string | undefined,
): Promise<WebhookReceipt> {
  const secret = deps.config.STRIPE_WEBHOOK_SECRET;
  if (!secret) {
    throw new Refusal("SERVICE_MISCONFIGURED", "Stripe webhooks are not configured.", {
      cause: new Error("STRIPE_WEBHOOK_SECRET is not set"),
    });
  }
  if (!signature) throw signatureRefused();
  let verified: unknown;
  try {
    verified = await deps.stripe.constructWebhookEvent(rawBody, signature, secret);
  } catch (error) {
    // The reason (bad HMAC, old or future timestamp, not JSON) is for the operator's log only.
    log("warn", "stripe webhook refused", { request_id: deps.requestId, reason: describeError(error) });
    throw signatureRefused();
  }
  const event = verifiedStripeEventSchema.safeParse(verified);
  if (!event.success) {
    const issue = event.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "the event";
    log("warn", "stripe webhook malformed", { request_id: deps.requestId, field: where });
    throw new Refusal(
      "BAD_REQUEST",
      `The signed body is not a Stripe event: ${where} is missing or malformed.`,
    );
  }
  const fact: StripeEventFact = stripeEventFact(event.data, tierCatalogOf(deps.config));
  // Idempotent, so recorded apart from (and before) the event itself: a failure answers 5xx and
  // Stripe's redelivery records it again.
  const periods = billingPeriodsOf(event.data);
  if (periods.length > 0) await deps.db.rpc<number>("record_billing_periods", { p_periods: periods });

  const applied = appliedSchema.parse(
    await deps.db.rpc<unknown>("apply_stripe_event_with_notices", {
      p_event: fact,
      p_grace_seconds: deps.config.BILLING_GRACE_DAYS * 86_400,
      p_on_subscription_deleted: deps.config.BILLING_ON_SUBSCRIPTION_DELETED,
    }),
  );
  log("info", "stripe event", {
    request_id: deps.requestId,
    event_id: fact.id,
    event_type: fact.type,
    outcome: applied.outcome,
    duplicate: applied.duplicate,
    account_id: applied.account_id,
    notice: applied.notice ?? undefined,
  });
  if (applied.notice) deps.onNoticeRecorded?.();
  if (applied.edge) await writeEdgeState(deps, applied.edge);
  return {
    received: true,
    id: fact.id,
    type: fact.type,
    outcome: applied.outcome,
    duplicate: applied.duplicate,
  };
}

const EDGE_WRITE_ATTEMPTS = 2;

async function writeEdgeState(deps: WebhookDeps, edge: z.infer<typeof edgeStateRowSchema>): Promise<void> {
  const state = edgeStateOf(edge);
  let lastError: unknown;
  for (let attempt = 1; attempt <= EDGE_WRITE_ATTEMPTS; attempt++) {
    try {
      await deps.redis.applyEdgeState(state, TOKEN_DENY_TTL_SECONDS);
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Refusal("DEPENDENCY_UNAVAILABLE", "The event was recorded; please deliver it again.", {
    cause: lastError,
  });
}

const listedEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  created_at: z.string(),
  received_at: z.string(),
  outcome: z.enum(EVENT_OUTCOMES),
  object_id: z.string().nullable(),
  account_id: z.string().nullable(),
  detail: z.string().nullable(),
});
export type ListedStripeEvent = z.infer<typeof listedEventSchema>;

/** GET /admin/events: recent events, newest first, optionally of one outcome. */
export async function listStripeEvents(
  db: DatabaseAdapter,
  { outcome, limit }: { outcome?: EventOutcome; limit: number },
): Promise<ListedStripeEvent[]> {
  return z
    .array(listedEventSchema)
    .parse(await db.rpc<unknown>("list_billing_events", { p_outcome: outcome ?? null, p_limit: limit }));
}
