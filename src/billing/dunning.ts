/**
 * Dunning e-mails (issue 21, part 2): the rules, written against two small interfaces. The
 * Postgres outbox (dunning-outbox.ts, migrations/0015_dunning_outbox.sql) and the Resend adapter
 * (src/adapters/email/) plug in; dunning-run.ts wires them to the webhook and the cron run.
 *
 *  - `Mailer.send(message)`: one e-mail, with an idempotency key the provider deduplicates on.
 *  - `DunningOutbox`: notices recorded once per key (the Stripe event id, or the grace period for
 *    a reminder), in the same transaction as the webhook's effect, and sent after the commit by
 *    `sendDueNotices` (a cron run or `waitUntil`), so the webhook never waits for the provider.
 *
 * Rules: a notice is recorded once per key, so a repeated webhook adds nothing; each is sent until
 * the mailer accepts it (a failure waits `retryDelayMs`, doubled after each further failure up to
 * `maxRetryDelayMs`; at most `maxAttempts`), always with the same idempotency key; a failure or
 * reminder notice older than the account's latest recovery is superseded (out-of-order deliveries
 * never tell a customer who has paid that payment failed).
 */

export type DunningKind = "payment_failed" | "grace_reminder" | "payment_recovered";

export interface DunningNotice {
  /** Once per key: the Stripe event id, or `reminder:<account>:<grace end>`. */
  key: string;
  kind: DunningKind;
  accountId: string;
  email: string;
  /** When what the notice tells happened (the Stripe event's `created`). */
  occurredAt: Date;
  /** End of the grace period (payment_failed, grace_reminder). */
  graceUntil?: Date;
  /** Where the customer fixes the card: a Customer Portal link. */
  portalUrl?: string;
}

export interface EmailMessage {
  to: string;
  subject: string;
  /** Plain text: readable as is, no HTML needed. */
  text: string;
  /** The provider deduplicates on it: a resend after a lost answer is the same e-mail. */
  idempotencyKey: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

export interface PendingNotice extends DunningNotice {
  attempts: number;
}

export interface DunningOutbox {
  /** Records the notice unless its key is already there; true when it was added. */
  add(notice: DunningNotice): Promise<boolean>;
  /** Unsent notices whose next attempt is due, oldest first, at most `limit`. */
  due(now: Date, limit: number): Promise<PendingNotice[]>;
  /** When the account's latest payment_recovered notice happened, if any. */
  latestRecovery(accountId: string): Promise<Date | null>;
  markSent(key: string, at: Date): Promise<void>;
  markSuperseded(key: string): Promise<void>;
  /** A failed attempt: try again at `nextAttemptAt`, or never (`null`: given up). */
  markFailed(key: string, nextAttemptAt: Date | null, error: string): Promise<void>;
}

const dateText = (date: Date) => `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** The e-mail a notice sends: plain text, one short message per kind. */
export function dunningMessage(notice: DunningNotice): EmailMessage {
  const grace = notice.graceUntil ? dateText(notice.graceUntil) : "the end of the grace period";
  const fix = notice.portalUrl
    ? `Update your card here: ${notice.portalUrl}`
    : "Update your card from your account's billing page.";
  const bodies: Record<DunningKind, { subject: string; lines: string[] }> = {
    payment_failed: {
      subject: "Schema Meter: your payment failed",
      lines: [
        "Hello,",
        "",
        "We could not charge your card for your Schema Meter subscription.",
        `Your API access continues until ${grace}; after that, calls are refused until the invoice is paid.`,
        "",
        fix,
      ],
    },
    grace_reminder: {
      subject: "Schema Meter: API access ends soon",
      lines: ["Hello,", "", `Your last payment is still due. Your API access ends at ${grace}.`, "", fix],
    },
    payment_recovered: {
      subject: "Schema Meter: payment received, access restored",
      lines: ["Hello,", "", "Your payment went through. Your API access is fully restored. Thank you."],
    },
  };
  const { subject, lines } = bodies[notice.kind];
  return {
    to: notice.email,
    subject,
    text: `${lines.join("\n")}\n`,
    idempotencyKey: `dunning:${notice.key}`,
  };
}

/** The reminder notice of a past-due account, keyed by its grace period (once per period). */
export function graceReminder(input: {
  accountId: string;
  email: string;
  graceUntil: Date;
  portalUrl?: string;
  /** Its `occurredAt`: when the arrears it reminds of began, so a later payment supersedes it. */
  now: Date;
}): DunningNotice {
  return {
    key: `reminder:${input.accountId}:${input.graceUntil.toISOString()}`,
    kind: "grace_reminder",
    accountId: input.accountId,
    email: input.email,
    occurredAt: input.now,
    graceUntil: input.graceUntil,
    portalUrl: input.portalUrl,
  };
}

export interface DunningSendReport {
  sent: number;
  superseded: number;
  failed: number;
  given_up: number;
  /** Keys of the notices given up on by this run (for the operator's log line). */
  given_up_keys: string[];
  /** The distinct provider errors of this run. */
  errors: string[];
}

/** A send report of nothing done yet. */
export const emptySendReport = (): DunningSendReport => ({
  sent: 0,
  superseded: 0,
  failed: 0,
  given_up: 0,
  given_up_keys: [],
  errors: [],
});

/** When a notice that has failed `attempts` times before (this failure not counted) is tried again. */
export function nextAttemptAt(
  now: Date,
  attempts: number,
  retryDelayMs: number,
  maxRetryDelayMs: number,
): Date {
  const delay = Math.min(retryDelayMs * 2 ** Math.min(attempts, 30), maxRetryDelayMs);
  return new Date(now.getTime() + delay);
}

/** Sends the due notices, each once; never throws for a provider failure. */
export async function sendDueNotices(deps: {
  outbox: DunningOutbox;
  mailer: Mailer;
  now: Date;
  /** Notices per run. Default 50. */
  limit?: number;
  /** Wait after the first failure, doubled after each next one. Default 60 s. */
  retryDelayMs?: number;
  /** The longest wait between attempts. Default 6 h. */
  maxRetryDelayMs?: number;
  /** Attempts before a notice is given up on. Default 10. */
  maxAttempts?: number;
  /** The link a notice without one shows (where the customer fixes the card). */
  portalUrl?: string;
}): Promise<DunningSendReport> {
  const { outbox, mailer, now, limit = 50, retryDelayMs = 60_000, maxAttempts = 10 } = deps;
  const maxRetryDelayMs = deps.maxRetryDelayMs ?? 6 * 3_600_000;
  const report = emptySendReport();
  for (const notice of await outbox.due(now, limit)) {
    if (notice.kind !== "payment_recovered") {
      const recovered = await outbox.latestRecovery(notice.accountId);
      if (recovered && recovered >= notice.occurredAt) {
        await outbox.markSuperseded(notice.key);
        report.superseded++;
        continue;
      }
    }
    try {
      await mailer.send(dunningMessage({ ...notice, portalUrl: notice.portalUrl ?? deps.portalUrl }));
      await outbox.markSent(notice.key, now);
      report.sent++;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const giveUp = notice.attempts + 1 >= maxAttempts;
      const retryAt = nextAttemptAt(now, notice.attempts, retryDelayMs, maxRetryDelayMs);
      await outbox.markFailed(notice.key, giveUp ? null : retryAt, reason);
      if (!report.errors.includes(reason)) report.errors.push(reason);
      if (giveUp) {
        report.given_up++;
        report.given_up_keys.push(notice.key);
      } else report.failed++;
    }
  }
  return report;
}
