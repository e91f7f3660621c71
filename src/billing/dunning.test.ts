/**
 * The dunning logic against in-memory doubles: an outbox with the rules the Postgres one must keep
 * (one row per key) and a mailer that checks each message as a provider would and deduplicates on
 * the idempotency key. test/integration/billing/dunning.test.ts drives the wired path (Postgres,
 * the webhook endpoint, the cron run and the Resend fake).
 */
import { describe, expect, it } from "vitest";
import {
  type DunningNotice,
  type DunningOutbox,
  dunningMessage,
  type EmailMessage,
  graceReminder,
  type Mailer,
  nextAttemptAt,
  type PendingNotice,
  sendDueNotices,
} from "./dunning";

interface Row extends PendingNotice {
  state: "pending" | "sent" | "superseded" | "given_up";
  nextAttemptAt: Date;
}

function memoryOutbox(): DunningOutbox & { rows: Map<string, Row> } {
  const rows = new Map<string, Row>();
  return {
    rows,
    async add(notice) {
      if (rows.has(notice.key)) return false;
      rows.set(notice.key, { ...notice, attempts: 0, state: "pending", nextAttemptAt: new Date(0) });
      return true;
    },
    async due(now, limit) {
      return [...rows.values()]
        .filter((row) => row.state === "pending" && row.nextAttemptAt <= now)
        .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())
        .slice(0, limit)
        .map((row) => ({ ...row }));
    },
    async latestRecovery(accountId) {
      const times = [...rows.values()]
        .filter((row) => row.accountId === accountId && row.kind === "payment_recovered")
        .map((row) => row.occurredAt.getTime());
      return times.length === 0 ? null : new Date(Math.max(...times));
    },
    async markSent(key) {
      const row = rows.get(key);
      if (row) row.state = "sent";
    },
    async markSuperseded(key) {
      const row = rows.get(key);
      if (row) row.state = "superseded";
    },
    async markFailed(key, nextAttemptAt) {
      const row = rows.get(key);
      if (!row) return;
      row.attempts++;
      if (nextAttemptAt) row.nextAttemptAt = nextAttemptAt;
      else row.state = "given_up";
    },
  };
}

/** A provider stand-in: validates each message, delivers one e-mail per idempotency key. */
function memoryMailer(): Mailer & { inbox: EmailMessage[]; failNext: number; calls: number } {
  const seen = new Set<string>();
  const mailer = {
    inbox: [] as EmailMessage[],
    failNext: 0,
    calls: 0,
    async send(message: EmailMessage) {
      mailer.calls++;
      if (mailer.failNext > 0) {
        mailer.failNext--;
        throw new Error("provider unavailable (503)");
      }
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(message.to)) throw new Error("invalid recipient");
      if (!message.subject || !message.text.trim()) throw new Error("empty message");
      if (seen.has(message.idempotencyKey)) return;
      seen.add(message.idempotencyKey);
      mailer.inbox.push(message);
    },
  };
  return mailer;
}

const t = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 12, 0) + minutes * 60_000);
const graceUntil = t(3 * 24 * 60);
const failed = (key: string, at: Date): DunningNotice => ({
  key,
  kind: "payment_failed",
  accountId: "acc_1",
  email: "owner@example.com",
  occurredAt: at,
  graceUntil,
  portalUrl: "https://billing.stripe.com/p/session/test_123",
});
const recovered = (key: string, at: Date): DunningNotice => ({
  key,
  kind: "payment_recovered",
  accountId: "acc_1",
  email: "owner@example.com",
  occurredAt: at,
});

describe("dunning notices", () => {
  it("a failed payment, then its duplicate webhook, sends one e-mail with the grace end and portal link", async () => {
    const outbox = memoryOutbox();
    const mailer = memoryMailer();
    expect(await outbox.add(failed("evt_failed_1", t(0)))).toBe(true);
    expect(await outbox.add(failed("evt_failed_1", t(0)))).toBe(false); // Stripe redelivers
    expect(await sendDueNotices({ outbox, mailer, now: t(1) })).toMatchObject({ sent: 1 });
    expect(await sendDueNotices({ outbox, mailer, now: t(2) })).toMatchObject({ sent: 0 });
    expect(mailer.inbox).toHaveLength(1);
    const [message] = mailer.inbox;
    expect(message?.to).toBe("owner@example.com");
    expect(message?.text).toContain("2026-12-04 12:00 UTC");
    expect(message?.text).toContain("https://billing.stripe.com/p/session/test_123");
    expect(message?.text).not.toMatch(/<[a-z]/i);
  });

  it("the grace reminder and the recovery are sent once each", async () => {
    const outbox = memoryOutbox();
    const mailer = memoryMailer();
    await outbox.add(failed("evt_failed_1", t(0)));
    await sendDueNotices({ outbox, mailer, now: t(1) });
    const reminder = () =>
      graceReminder({ accountId: "acc_1", email: "owner@example.com", graceUntil, now: t(2 * 24 * 60) });
    expect(await outbox.add(reminder())).toBe(true);
    expect(await outbox.add(reminder())).toBe(false); // the next cron run finds the same account
    await sendDueNotices({ outbox, mailer, now: t(2 * 24 * 60 + 1) });
    await outbox.add(recovered("evt_paid_1", t(2 * 24 * 60 + 30)));
    await outbox.add(recovered("evt_paid_1", t(2 * 24 * 60 + 30)));
    await sendDueNotices({ outbox, mailer, now: t(2 * 24 * 60 + 31) });
    expect(mailer.inbox.map((message) => message.subject)).toEqual([
      "Schema Meter: your payment failed",
      "Schema Meter: API access ends soon",
      "Schema Meter: payment received, access restored",
    ]);
  });

  it("out of order: a failure delivered after the later recovery is never sent", async () => {
    const outbox = memoryOutbox();
    const mailer = memoryMailer();
    await outbox.add(recovered("evt_paid_2", t(10)));
    await outbox.add(failed("evt_failed_2", t(0))); // created before the payment, delivered after
    const report = await sendDueNotices({ outbox, mailer, now: t(11) });
    expect(report).toMatchObject({ sent: 1, superseded: 1 });
    expect(mailer.inbox.map((message) => message.subject)).toEqual([
      "Schema Meter: payment received, access restored",
    ]);
  });

  it("a provider failure is retried later with the same idempotency key, and given up after maxAttempts", async () => {
    const outbox = memoryOutbox();
    const mailer = memoryMailer();
    await outbox.add(failed("evt_failed_3", t(0)));
    mailer.failNext = 2;
    expect(await sendDueNotices({ outbox, mailer, now: t(1), retryDelayMs: 60_000 })).toMatchObject({
      failed: 1,
    });
    // Not due again before the retry delay.
    expect(await sendDueNotices({ outbox, mailer, now: t(1.5), retryDelayMs: 60_000 })).toMatchObject({
      failed: 0,
      sent: 0,
    });
    expect(await sendDueNotices({ outbox, mailer, now: t(2), retryDelayMs: 60_000 })).toMatchObject({
      failed: 1,
    });
    // Backoff: the second failure waits twice as long (120 s).
    expect(await sendDueNotices({ outbox, mailer, now: t(3), retryDelayMs: 60_000 })).toMatchObject({
      sent: 0,
      failed: 0,
    });
    expect(await sendDueNotices({ outbox, mailer, now: t(4), retryDelayMs: 60_000 })).toMatchObject({
      sent: 1,
    });
    expect(mailer.calls).toBe(3);
    expect(mailer.inbox).toHaveLength(1);

    await outbox.add(failed("evt_failed_4", t(5)));
    mailer.failNext = 5;
    const reports = [];
    for (let minute = 6; minute < 16; minute++)
      reports.push(await sendDueNotices({ outbox, mailer, now: t(minute), maxAttempts: 3 }));
    expect(outbox.rows.get("evt_failed_4")?.state).toBe("given_up");
    expect(reports.flatMap((report) => report.given_up_keys)).toEqual(["evt_failed_4"]);
    expect(mailer.calls).toBe(3 + 3);
  });

  it("the retry delay doubles per failure, up to its cap", () => {
    const waits = [0, 1, 2, 3, 10, 40].map(
      (attempts) => (nextAttemptAt(t(0), attempts, 60_000, 3_600_000).getTime() - t(0).getTime()) / 60_000,
    );
    expect(waits).toEqual([1, 2, 4, 8, 60, 60]);
  });

  it("a notice without its own link shows the one configured", async () => {
    const outbox = memoryOutbox();
    const mailer = memoryMailer();
    await outbox.add({ ...failed("evt_failed_5", t(0)), portalUrl: undefined });
    await sendDueNotices({
      outbox,
      mailer,
      now: t(1),
      portalUrl: "https://billing.stripe.com/p/login/test_abc",
    });
    expect(mailer.inbox[0]?.text).toContain(
      "Update your card here: https://billing.stripe.com/p/login/test_abc",
    );
  });

  it("every template is plain text with a stable idempotency key", () => {
    for (const notice of [
      failed("evt_a", t(0)),
      recovered("evt_b", t(1)),
      graceReminder({ accountId: "acc_1", email: "a@example.com", graceUntil, now: t(2) }),
    ]) {
      const message = dunningMessage(notice);
      expect(message.idempotencyKey).toBe(`dunning:${notice.key}`);
      expect(message.text.endsWith("\n")).toBe(true);
      expect(message.text).not.toMatch(/<\/?[a-z]+>|undefined|null/);
    }
  });
});
