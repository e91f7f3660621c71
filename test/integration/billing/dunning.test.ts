/**
 * Dunning e-mails end to end, against real Postgres (migrations applied) and Redis, the fake Stripe
 * signing the webhooks and the Resend fake receiving the e-mails: Stripe events POSTed to
 * /webhooks/stripe, the Worker's own cron handler for reminders and retries. A failed payment
 * sends one e-mail however often Stripe delivers it; a provider failure or a hanging provider
 * never holds the webhook's answer and the e-mail goes out once on a later run; the reminder goes
 * once before the grace period ends; a paid invoice sends one confirmation; out-of-order
 * deliveries never tell a customer who has paid that their payment failed.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createResendSender } from "../../../src/adapters/email";
import { runDunning } from "../../../src/billing/dunning-run";
import { loadConfig } from "../../../src/config";
import type { Env } from "../../../src/env";
import worker from "../../../src/index";
import type { SentEmail } from "../../support/resend-fake";
import { type AccessHarness, startAccessHarness } from "../harness/access";
import {
  billingSnapshot,
  invoiceEvent,
  nowSeconds,
  payingCustomer,
  type WebhookClient,
  webhookClient,
} from "../harness/webhooks";

const DAY = 86_400;
const PORTAL_LOGIN = "https://billing.stripe.com/p/login/test_schema_meter";
let h: AccessHarness;
let client: WebhookClient;

beforeAll(async () => {
  h = await startAccessHarness({
    env: { DUNNING_RETRY_SECONDS: "1", BILLING_PORTAL_LOGIN_URL: PORTAL_LOGIN },
  });
  client = webhookClient(h);
});
afterAll(async () => {
  await h?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inbox = (email: string): SentEmail[] => h.stack.resend.messagesTo(email);
const subjects = (email: string) => inbox(email).map((message) => message.subject);
const FAILED = "Schema Meter: your payment failed";
const REMINDER = "Schema Meter: API access ends soon";
const RECOVERED = "Schema Meter: payment received, access restored";

/** Runs the Worker's cron handler, as the every-minute trigger does; returns its dunning log line. */
async function cronRun(env: Env = h.env): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const capture = (line: unknown) => {
    if (typeof line === "string") lines.push(line);
  };
  const spies = [
    vi.spyOn(console, "log").mockImplementation(capture),
    vi.spyOn(console, "warn").mockImplementation(capture),
    vi.spyOn(console, "error").mockImplementation(capture),
  ];
  try {
    const controller = { scheduledTime: Date.now(), cron: "* * * * *", noRetry() {} } as ScheduledController;
    await worker.scheduled(controller, env);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const dunning = parsed.filter((line) => line.msg === "dunning e-mails");
  expect(dunning).toHaveLength(1);
  return { ...dunning[0], dead_lines: parsed.filter((line) => line.msg === "dunning e-mail dead") };
}

async function notice(key: string) {
  const { rows } = await h.sql.query(
    "select kind, status, attempts, last_error from public.dunning_notices where key = $1",
    [key],
  );
  return rows[0] as { kind: string; status: string; attempts: number; last_error: string | null } | undefined;
}

/** "YYYY-MM-DD HH:MM UTC", as the e-mail writes the grace end. */
const utcMinute = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

describe("dunning e-mails through the webhook, the cron run and Resend", () => {
  it("a failed payment, then its duplicate webhook, sends one e-mail with the grace end and the portal link", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const failed = invoiceEvent(client, "invoice.payment_failed", customer, nowSeconds());
    expect(await client.deliverOk(failed)).toMatchObject({ outcome: "applied", duplicate: false });
    await h.settle();
    expect(await client.deliverOk(failed)).toMatchObject({ duplicate: true }); // Stripe redelivers
    await h.settle();
    await cronRun();
    await cronRun();

    const messages = inbox(customer.email);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    const { grace_until: graceUntil, status } = await billingSnapshot(h, customer.id);
    expect(status).toBe("past_due");
    expect(message).toMatchObject({
      from: "Schema Meter <console@schema-meter.test>",
      subject: FAILED,
      html: null,
      idempotencyKey: `dunning:${failed.id}`,
    });
    expect(message?.text).toContain(`Your API access continues until ${utcMinute(graceUntil as string)}`);
    expect(message?.text).toContain(`Update your card here: ${PORTAL_LOGIN}`);
    // Plain text, and nothing secret: no API key, token or Stripe session in it.
    expect(message?.text).not.toMatch(/<[a-z/]/i);
    expect(message?.text).not.toContain(customer.apiKey);
    expect(message?.text).not.toMatch(/sm_|eyJ|billing\.stripe\.com\/session|cus_|sub_/);
    expect(await notice(failed.id)).toMatchObject({ kind: "payment_failed", status: "sent", attempts: 0 });
    const { rows } = await h.sql.query("select key from public.dunning_notices where account_id = $1", [
      customer.id,
    ]);
    expect(rows).toEqual([{ key: failed.id }]);
  });

  it("a provider 500 does not fail the webhook; the cron run retries and the e-mail is sent once", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const failed = invoiceEvent(client, "invoice.payment_failed", customer, nowSeconds());
    h.stack.resend.failNext(1, 500);
    expect(await client.deliverOk(failed)).toMatchObject({ outcome: "applied" });
    await h.settle();
    expect(inbox(customer.email)).toHaveLength(0);
    expect(await notice(failed.id)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await notice(failed.id))?.last_error).toMatch(/HTTP 500.*application_error/);

    // Not due before the retry delay (DUNNING_RETRY_SECONDS=1)... then sent by the next run.
    await sleep(1100);
    expect(await cronRun()).toMatchObject({ sent: 1, failed: 0 });
    expect(await cronRun()).toMatchObject({ sent: 0 });
    expect(subjects(customer.email)).toEqual([FAILED]);
    expect(await notice(failed.id)).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("two senders at once (the webhook's waitUntil and the cron run) send a notice once", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const failed = invoiceEvent(client, "invoice.payment_failed", customer, nowSeconds());
    h.stack.resend.failNext(1, 500);
    await client.deliverOk(failed);
    await h.settle();
    await sleep(1100);
    const config = loadConfig(h.env);
    const email = createResendSender({
      apiKey: h.stack.resend.apiKey,
      from: config.EMAIL_FROM,
      apiBase: h.stack.resend.url,
      timeoutMs: 5000,
    });
    // Each claims what is due; the lease keeps the other from sending the same notice.
    const reports = await Promise.all(
      [0, 1, 2].map(() => runDunning({ db: h.db, email, config }, { source: "cron", reminders: false })),
    );
    expect(reports.map((report) => report.sent).reduce((a, b) => a + b)).toBe(1);
    expect(subjects(customer.email)).toEqual([FAILED]);
  });

  it("a hanging provider does not hold the webhook's answer", async () => {
    let arrived = 0;
    const hanging = http.createServer(() => {
      arrived += 1; // never answers: the adapter's timeout ends the attempt
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const env: Env = {
      ...h.env,
      RESEND_API_BASE: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
    };
    try {
      const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
      const failed = invoiceEvent(client, "invoice.payment_failed", customer, nowSeconds());
      const response = await client.deliver(failed, { env });
      expect(response.status).toBe(200);
      // Answered while the send is still waiting on the provider.
      const settling = h.settle();
      const settled = await Promise.race([settling.then(() => "settled"), sleep(500).then(() => "waiting")]);
      expect(settled).toBe("waiting");
      expect(arrived).toBe(1);
      await settling; // the send times out (5 s) and is recorded as failed
      expect(await notice(failed.id)).toMatchObject({ status: "pending", attempts: 1 });
      expect((await notice(failed.id))?.last_error).toMatch(/timeout/);
      await sleep(1100);
      expect(await cronRun()).toMatchObject({ sent: 1 });
      expect(subjects(customer.email)).toEqual([FAILED]);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it("the reminder goes once before the grace period ends, and only to accounts near their grace end", async () => {
    // Grace (3 days) ends in 2 minutes for one account (within DUNNING_REMINDER_HOURS=24), in 3 days for the other.
    const ending = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    await client.deliverOk(
      invoiceEvent(client, "invoice.payment_failed", ending, nowSeconds() - 3 * DAY + 120),
    );
    const later = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    await client.deliverOk(invoiceEvent(client, "invoice.payment_failed", later, nowSeconds()));
    await h.settle();

    const first = await cronRun();
    expect(first).toMatchObject({ reminders_recorded: 1 });
    await h.settle();
    expect(await cronRun()).toMatchObject({ reminders_recorded: 0 });
    await sleep(1100); // a reminder refused by the rate limit is retried after DUNNING_RETRY_SECONDS
    await cronRun();

    expect(subjects(ending.email)).toEqual([FAILED, REMINDER]);
    const reminder = inbox(ending.email)[1];
    const { grace_until: graceUntil } = await billingSnapshot(h, ending.id);
    expect(reminder?.text).toContain(`Your API access ends at ${utcMinute(graceUntil as string)}`);
    expect(reminder?.text).toContain(PORTAL_LOGIN);
    expect(subjects(later.email)).toEqual([FAILED]);
  });

  it("a reminder still unsent when the payment arrives is superseded, even a payment raised before the reminder", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    await client.deliverOk(
      invoiceEvent(client, "invoice.payment_failed", customer, nowSeconds() - 3 * DAY + 120),
    );
    await h.settle();
    const paidAt = nowSeconds() - 2; // the customer paid; Stripe's event reaches us after the cron run
    h.stack.resend.failNext(1, 500);
    expect(await cronRun()).toMatchObject({ reminders_recorded: 1, failed: 1 });
    await client.deliverOk(invoiceEvent(client, "invoice.paid", customer, paidAt));
    await h.settle();
    await sleep(1100);
    expect(await cronRun()).toMatchObject({ superseded: 1, sent: 0 });
    expect(subjects(customer.email)).toEqual([FAILED, RECOVERED]);
  });

  it("invoice.paid after a failure sends one confirmation; a paid renewal without a failure sends nothing", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const t = nowSeconds() - 600;
    await client.deliverOk(invoiceEvent(client, "invoice.payment_failed", customer, t));
    await h.settle();
    const paid = invoiceEvent(client, "invoice.paid", customer, t + 300);
    expect(await client.deliverOk(paid)).toMatchObject({ outcome: "applied" });
    await client.deliverOk(paid); // duplicate
    await h.settle();
    await sleep(1100);
    await cronRun();
    expect(await billingSnapshot(h, customer.id)).toMatchObject({ status: "active" });
    expect(subjects(customer.email)).toEqual([FAILED, RECOVERED]);
    expect(inbox(customer.email)[1]?.text).toContain("Your API access is fully restored");

    const renewing = await payingCustomer(h, client, nowSeconds() - 40 * DAY);
    await client.deliverOk(invoiceEvent(client, "invoice.paid", renewing, nowSeconds()));
    await h.settle();
    await cronRun();
    expect(inbox(renewing.email)).toHaveLength(0);
  });

  it("out of order: a failure of an earlier invoice delivered after the payment sends nothing", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const t = nowSeconds() - 600;
    const failed = invoiceEvent(client, "invoice.payment_failed", customer, t);
    const paid = invoiceEvent(client, "invoice.paid", customer, t + 300);
    await client.deliverOk(paid);
    expect(await client.deliverOk(failed)).toMatchObject({ outcome: "stale" });
    await h.settle();
    await cronRun();
    expect(await billingSnapshot(h, customer.id)).toMatchObject({ status: "active" });
    expect(inbox(customer.email)).toHaveLength(0);
    expect(await notice(failed.id)).toBeUndefined();
  });

  it("a failure still unsent when the payment arrives is superseded: the customer hears only that it was paid", async () => {
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const t = nowSeconds() - 600;
    const failed = invoiceEvent(client, "invoice.payment_failed", customer, t);
    h.stack.resend.failNext(1, 503);
    await client.deliverOk(failed);
    await h.settle();
    const paid = invoiceEvent(client, "invoice.paid", customer, t + 300);
    await client.deliverOk(paid);
    await h.settle();
    await sleep(1100);
    expect(await cronRun()).toMatchObject({ superseded: 1 });
    expect(subjects(customer.email)).toEqual([RECOVERED]);
    expect(await notice(failed.id)).toMatchObject({ status: "superseded" });
  });

  it("a notice refused DUNNING_MAX_ATTEMPTS times is dead: logged and counted in GET /admin/metrics", async () => {
    const env: Env = { ...h.env, DUNNING_MAX_ATTEMPTS: "2" };
    const customer = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
    const failed = invoiceEvent(client, "invoice.payment_failed", customer, nowSeconds());
    h.stack.resend.failNext(2, 500);
    await client.deliverOk(failed, env);
    await h.settle();
    await sleep(1100);
    const run = await cronRun(env);
    expect(run).toMatchObject({ given_up: 1 });
    expect(run.dead_lines).toEqual([expect.objectContaining({ level: "error", notice: failed.id })]);
    expect(JSON.stringify(run)).not.toContain(customer.email);
    expect(await notice(failed.id)).toMatchObject({ status: "dead", attempts: 2 });
    expect(inbox(customer.email)).toHaveLength(0);

    const response = await h.request("/admin/metrics", {
      headers: { Authorization: `Bearer ${h.stack.secrets.adminToken}` },
    });
    const { dunning_emails: outbox } = (await response.json()) as {
      dunning_emails: { pending: number; dead: number; sent_last_24_hours: number };
    };
    expect(outbox).toMatchObject({ pending: 0, dead: 1 });
    expect(outbox.sent_last_24_hours).toBeGreaterThanOrEqual(5);
  });
});
