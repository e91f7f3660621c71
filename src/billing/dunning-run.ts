/**
 * Dunning e-mails, wired: the webhook records a notice in its own transaction and hands
 * `sendDunningNotices` to `waitUntil` (Stripe gets its 2xx without waiting for Resend); the cron run
 * (every minute) records the grace reminders that are due and sends whatever is still pending, so a
 * notice the provider refused, or one whose `waitUntil` never ran, goes out on a later run.
 *
 * Each run logs one `dunning e-mails` line; a notice given up on after DUNNING_MAX_ATTEMPTS logs
 * `dunning e-mail dead` (error) with its key, and GET /admin/metrics counts them.
 * No e-mail address, message text or link is logged.
 */
import type { EmailSender } from "../adapters/email";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { Config } from "../config";
import { describeError, log } from "../lib/log";
import {
  type DunningSendReport,
  emptySendReport,
  graceReminder,
  type Mailer,
  sendDueNotices,
} from "./dunning";
import { postgresDunningOutbox, remindersDue } from "./dunning-outbox";

/** Notices one cron run sends at most (Resend allows 2 requests per second; a send waits at most 5 s). */
export const DUNNING_SENDS_PER_RUN = 20;
/** Notices the webhook's `waitUntil` sends at most: its own, mostly, well within waitUntil's 30 s. */
const WEBHOOK_SENDS = 3;
/** Reminders one cron run records at most; the rest are recorded by the next run. */
const REMINDERS_PER_RUN = 200;
const MAX_RETRY_DELAY_MS = 6 * 3_600_000;

export interface DunningRunDeps {
  db: DatabaseAdapter;
  email: EmailSender;
  config: Config;
  /** Default: the current time. */
  now?: Date;
}

export interface DunningRunReport extends DunningSendReport {
  reminders_recorded: number;
}

/** Where a dunning e-mail sends the customer to fix the card (never a secret; see BILLING_PORTAL_LOGIN_URL). */
export function dunningPortalUrl(config: Config): string | undefined {
  return config.BILLING_PORTAL_LOGIN_URL ?? config.CONSOLE_URL?.replace(/\/+$/, "");
}

const emptyReport = (): DunningRunReport => ({ reminders_recorded: 0, ...emptySendReport() });

/**
 * Records the grace reminders now due (cron only: `reminders`) and sends the pending notices.
 * Never throws: a provider or database failure is logged and the next run tries again. Without
 * RESEND_API_KEY nothing is sent; the notices wait in the outbox.
 */
export async function runDunning(
  deps: DunningRunDeps,
  { source, reminders }: { source: "webhook" | "cron"; reminders: boolean },
): Promise<DunningRunReport> {
  const { db, config } = deps;
  const now = deps.now ?? new Date();
  const outbox = postgresDunningOutbox(db);
  const report = emptyReport();
  const portalUrl = dunningPortalUrl(config);
  try {
    if (reminders) {
      const due = await remindersDue(db, {
        now,
        withinSeconds: config.DUNNING_REMINDER_HOURS * 3600,
        limit: REMINDERS_PER_RUN,
      });
      for (const { since, ...account } of due) {
        // Dated when the arrears began: a payment after the failure supersedes it (dunning.ts).
        if (await outbox.add(graceReminder({ ...account, now: since }))) report.reminders_recorded += 1;
      }
    }
    if (config.RESEND_API_KEY) {
      const mailer: Mailer = {
        async send(message) {
          await deps.email.send(message);
        },
      };
      Object.assign(
        report,
        await sendDueNotices({
          outbox,
          mailer,
          now,
          limit: source === "cron" ? DUNNING_SENDS_PER_RUN : WEBHOOK_SENDS,
          retryDelayMs: config.DUNNING_RETRY_SECONDS * 1000,
          maxRetryDelayMs: MAX_RETRY_DELAY_MS,
          maxAttempts: config.DUNNING_MAX_ATTEMPTS,
          portalUrl,
        }),
      );
    }
  } catch (error) {
    report.errors.push(`database: ${describeError(error)}`);
  }
  for (const key of report.given_up_keys) {
    log("error", "dunning e-mail dead", {
      notice: key,
      attempts: config.DUNNING_MAX_ATTEMPTS,
      errors: report.errors.join("; ") || undefined,
    });
  }
  const worked =
    report.reminders_recorded + report.sent + report.superseded + report.failed + report.given_up;
  // The cron logs every run (like the flusher); the webhook's send only when it did something.
  if (source === "cron" || worked > 0 || report.errors.length > 0) {
    log(report.errors.length > 0 ? "warn" : "info", "dunning e-mails", {
      source,
      email: config.RESEND_API_KEY ? "resend" : "not configured (RESEND_API_KEY)",
      reminders_recorded: report.reminders_recorded,
      sent: report.sent,
      superseded: report.superseded,
      failed: report.failed,
      given_up: report.given_up,
      errors: report.errors.join("; ") || undefined,
    });
  }
  return report;
}

/** The webhook's after-commit send (in `waitUntil`): the pending notices, no reminders. */
export function sendDunningNotices(deps: DunningRunDeps): Promise<DunningRunReport> {
  return runDunning(deps, { source: "webhook", reminders: false });
}
