/**
 * Grace expiry at the edge, against real Postgres and Redis: when a past-due account's grace
 * period ends, the next cron run (the Worker's own `scheduled` handler) denies it in Redis, so a
 * token minted during the grace period is refused on its next call instead of working until it
 * expires. Accounts still in grace are untouched, a repeat run changes nothing, an older state can
 * never overwrite the denial, a Redis failure is retried by the next run, each run is bounded, and
 * `invoice.paid` restores access.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { enforceGraceExpiry, type GraceExpiryReport } from "../../../src/billing/grace-expiry";
import type { Env } from "../../../src/env";
import worker from "../../../src/index";
import { type AccessHarness, startAccessHarness } from "../harness/access";
import {
  billingSnapshot,
  invoiceEvent,
  mintToken,
  nowSeconds,
  payingCustomer,
  policySeenWith,
  type WebhookClient,
  webhookClient,
} from "../harness/webhooks";

const DAY = 86_400;
let h: AccessHarness;
let client: WebhookClient;

beforeAll(async () => {
  h = await startAccessHarness();
  client = webhookClient(h);
});
afterAll(async () => {
  await h?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function billingVersion(accountId: string): Promise<number> {
  const { rows } = await h.sql.query("select billing_version from public.accounts where id = $1", [
    accountId,
  ]);
  return Number(rows[0].billing_version);
}

/** A pro customer (checkout 10 days ago) whose renewal failed at `failedAt`: past due until failedAt + 3 days. */
async function pastDueCustomer(failedAt: number) {
  const paying = await payingCustomer(h, client, nowSeconds() - 10 * DAY);
  await client.deliverOk(invoiceEvent(client, "invoice.payment_failed", paying, failedAt));
  return paying;
}

/** Runs the Worker's cron handler, as the every-minute trigger does, and returns its grace-expiry log line. */
async function cronRun(env: Env = h.env): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const capture = (line: unknown) => {
    if (typeof line === "string") lines.push(line);
  };
  const info = vi.spyOn(console, "log").mockImplementation(capture);
  const warn = vi.spyOn(console, "warn").mockImplementation(capture);
  try {
    const controller = { scheduledTime: Date.now(), cron: "* * * * *", noRetry() {} } as ScheduledController;
    await worker.scheduled(controller, env);
  } finally {
    info.mockRestore();
    warn.mockRestore();
  }
  const graceLines = lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === "grace expiry enforced");
  expect(graceLines).toHaveLength(1);
  return graceLines[0]!;
}

describe("the cron run denies accounts whose grace period has ended", () => {
  it("at the edge, leaves accounts in grace alone, is idempotent, and invoice.paid restores access", async () => {
    // Grace ends six seconds from now for one account; the other failed just now (three days left).
    const ending = await pastDueCustomer(nowSeconds() - 3 * DAY + 6);
    const inGrace = await pastDueCustomer(nowSeconds());
    for (const account of [ending, inGrace]) {
      expect(await billingSnapshot(h, account.id)).toMatchObject({
        tier: "pro",
        status: "past_due",
        edge_denied: false,
      });
      expect(await policySeenWith(h, account.token)).toBe("pro");
    }
    expect(await cronRun()).toMatchObject({ level: "info", expired: 0, denied: 0, failed: 0 });
    expect(await billingSnapshot(h, ending.id)).toMatchObject({ edge_denied: false });
    const inGraceVersion = await billingVersion(inGrace.id);

    const graceEnds = Date.parse((await billingSnapshot(h, ending.id)).grace_until as string);
    await sleep(Math.max(0, graceEnds - Date.now()) + 200);
    // The gap: Postgres refuses new tokens, but until the cron run the edge still serves live ones.
    expect(await mintToken(h, ending.apiKey)).toBe("ACCOUNT_PAST_DUE");
    expect(await policySeenWith(h, ending.token)).toBe("pro");
    const versionBefore = await billingVersion(ending.id);

    expect(await cronRun()).toMatchObject({ level: "info", expired: 1, denied: 1, superseded: 0, failed: 0 });
    expect(await billingSnapshot(h, ending.id)).toMatchObject({
      tier: "pro",
      status: "past_due",
      edge_denied: true,
    });
    expect(await policySeenWith(h, ending.token)).toBe("TOKEN_REVOKED");
    expect(await billingVersion(ending.id)).toBe(versionBefore + 1);

    // The one still in grace is untouched: not denied, same version, its token still works.
    expect(await billingSnapshot(h, inGrace.id)).toMatchObject({ status: "past_due", edge_denied: false });
    expect(await billingVersion(inGrace.id)).toBe(inGraceVersion);
    expect(await policySeenWith(h, inGrace.token)).toBe("pro");

    // Idempotent: the next run finds nothing to do and changes nothing.
    expect(await cronRun()).toMatchObject({ expired: 0, denied: 0 });
    expect(await billingVersion(ending.id)).toBe(versionBefore + 1);

    // A state read before the denial (e.g. a webhook's Redis write still in flight) cannot undo it.
    const stale = { subject: ending.id, tier: "pro", deny: false, version: versionBefore };
    expect(await h.redis.applyEdgeState(stale, 3660)).toBe(false);
    expect(await policySeenWith(h, ending.token)).toBe("TOKEN_REVOKED");

    const paidAt = nowSeconds();
    await client.deliverOk(invoiceEvent(client, "invoice.paid", ending, paidAt));
    expect(await billingSnapshot(h, ending.id)).toMatchObject({
      status: "active",
      grace_until: null,
      edge_denied: false,
    });
    expect(await policySeenWith(h, ending.token)).toBe("pro");
    expect(await mintToken(h, ending.apiKey)).toBe("ok");
    // The cron's own (older) state cannot overwrite the payment's either, and the next run leaves it be.
    const denial = { subject: ending.id, tier: "pro", deny: true, version: versionBefore + 1 };
    expect(await h.redis.applyEdgeState(denial, 3660)).toBe(false);
    expect(await cronRun()).toMatchObject({ expired: 0 });
    expect(await policySeenWith(h, ending.token)).toBe("pro");
  });

  it("retries a failed Redis write on the next run, and handles at most the run's limit", async () => {
    const soon = nowSeconds() - 3 * DAY + 5;
    const accounts = [await pastDueCustomer(soon), await pastDueCustomer(soon), await pastDueCustomer(soon)];
    await sleep(Math.max(0, (soon + 3 * DAY) * 1000 - Date.now()) + 200);

    const redisDown = {
      ...h.redis,
      applyEdgeState: () => Promise.reject(new Error("connect ECONNREFUSED")),
    };
    const failed = await enforceGraceExpiry({ db: h.db, redis: redisDown, maxAccounts: 2 });
    expect(failed).toMatchObject({ expired: 2, denied: 0, failed: 2, more: true });
    expect(failed.errors.join()).toMatch(/ECONNREFUSED/);
    for (const account of accounts) {
      expect(await billingSnapshot(h, account.id)).toMatchObject({ edge_denied: false });
    }

    const runs: GraceExpiryReport[] = [];
    for (let i = 0; i < 3; i++)
      runs.push(await enforceGraceExpiry({ db: h.db, redis: h.redis, maxAccounts: 2 }));
    expect(runs.map((run) => [run.expired, run.denied, run.failed])).toEqual([
      [2, 2, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    for (const account of accounts) {
      expect(await billingSnapshot(h, account.id)).toMatchObject({ status: "past_due", edge_denied: true });
      expect(await policySeenWith(h, account.token)).toBe("TOKEN_REVOKED");
    }
  });

  it("reports a database failure without throwing", async () => {
    const down = { rpc: () => Promise.reject(new Error("fetch failed")) };
    const report = await enforceGraceExpiry({ db: down, redis: h.redis });
    expect(report).toMatchObject({ expired: 0, denied: 0 });
    expect(report.errors.join()).toMatch(/database: .*fetch failed/);
  });
});
