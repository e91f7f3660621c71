/**
 * The dunning outbox in Postgres (migrations/0015_dunning_outbox.sql): the `DunningOutbox` that
 * `sendDueNotices` runs against. Notices of Stripe events are written by
 * `apply_stripe_event_with_notices`, in the webhook's own transaction; this adds the reminders and
 * records what each send did. `due` leases what it returns, so two senders at once (the webhook's
 * `waitUntil` and the cron run) never send one notice together.
 */
import { z } from "zod";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { DunningNotice, DunningOutbox, PendingNotice } from "./dunning";

/**
 * How long a claimed notice is left to its sender before another may try: a cron run's whole batch
 * (DUNNING_SENDS_PER_RUN, each at most 5 s, plus 1 s and 5 s more after a 429) with room to spare.
 */
export const DUNNING_LEASE_SECONDS = 300;

const pendingSchema = z.array(
  z.object({
    key: z.string(),
    kind: z.enum(["payment_failed", "grace_reminder", "payment_recovered"]),
    account_id: z.string(),
    email: z.string(),
    occurred_at: z.string(),
    grace_until: z.string().nullable(),
    attempts: z.number().int(),
  }),
);

const reminderCandidatesSchema = z.array(
  z.object({ account_id: z.string(), email: z.string(), grace_until: z.string(), since: z.string() }),
);

const summarySchema = z.object({
  pending: z.number().int(),
  oldest_pending_at: z.string().nullable(),
  dead: z.number().int(),
  sent_last_24_hours: z.number().int(),
});
export type DunningOutboxSummary = z.infer<typeof summarySchema>;

/** The Postgres outbox behind `sendDueNotices`. */
export function postgresDunningOutbox(db: DatabaseAdapter): DunningOutbox {
  const settle = (key: string, outcome: string, at: Date, next: Date | null = null, error?: string) =>
    db.rpc<unknown>("dunning_settle_notice", {
      p_key: key,
      p_outcome: outcome,
      p_at: at.toISOString(),
      p_next_attempt_at: next?.toISOString() ?? null,
      p_error: error ?? null,
    });
  return {
    async add(notice: DunningNotice) {
      return z.boolean().parse(
        await db.rpc<unknown>("dunning_add_notice", {
          p_notice: {
            key: notice.key,
            kind: notice.kind,
            account_id: notice.accountId,
            email: notice.email,
            occurred_at: notice.occurredAt.toISOString(),
            grace_until: notice.graceUntil?.toISOString() ?? null,
          },
        }),
      );
    },
    async due(now, limit): Promise<PendingNotice[]> {
      const rows = pendingSchema.parse(
        await db.rpc<unknown>("dunning_claim_notices", {
          p_now: now.toISOString(),
          p_limit: limit,
          p_lease_seconds: DUNNING_LEASE_SECONDS,
        }),
      );
      return rows.map((row) => ({
        key: row.key,
        kind: row.kind,
        accountId: row.account_id,
        email: row.email,
        occurredAt: new Date(row.occurred_at),
        graceUntil: row.grace_until ? new Date(row.grace_until) : undefined,
        attempts: row.attempts,
      }));
    },
    async latestRecovery(accountId) {
      const at = z
        .string()
        .nullable()
        .parse(await db.rpc<unknown>("dunning_latest_recovery", { p_account_id: accountId }));
      return at ? new Date(at) : null;
    },
    async markSent(key, at) {
      await settle(key, "sent", at);
    },
    async markSuperseded(key) {
      await settle(key, "superseded", new Date());
    },
    async markFailed(key, nextAttemptAt, error) {
      await settle(key, "failed", new Date(), nextAttemptAt, error);
    },
  };
}

/**
 * Past-due accounts whose grace ends within `withinSeconds` of `now` and that have no reminder for
 * it yet, with `since`: when their arrears began (the reminder is dated then; see the SQL).
 */
export async function remindersDue(
  db: DatabaseAdapter,
  { now, withinSeconds, limit }: { now: Date; withinSeconds: number; limit: number },
): Promise<{ accountId: string; email: string; graceUntil: Date; since: Date }[]> {
  const rows = reminderCandidatesSchema.parse(
    await db.rpc<unknown>("dunning_reminders_due", {
      p_now: now.toISOString(),
      p_within_seconds: withinSeconds,
      p_limit: limit,
    }),
  );
  return rows.map((row) => ({
    accountId: row.account_id,
    email: row.email,
    graceUntil: new Date(row.grace_until),
    since: new Date(row.since),
  }));
}

/** What GET /admin/metrics shows of the outbox. */
export async function dunningOutboxSummary(db: DatabaseAdapter): Promise<DunningOutboxSummary> {
  return summarySchema.parse(await db.rpc<unknown>("dunning_outbox_summary"));
}
