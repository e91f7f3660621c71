/**
 * The operator's way back for a usage record that a log line reports lost or unconfirmed (Postgres
 * did not take it while Redis was unreachable): `npm run usage-batches -- reenter '<log line>'`
 * puts it back under its own usage id, so a record that never got through is billed once and one
 * that did get through (the timed-out admission had recorded it after all) is not billed twice.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { AdmittedRequest } from "../../../src/metering/admit";
import { settleAdmission } from "../../../src/metering/settle";
import type { UsageRecord } from "../../../src/metering/usage-record";
import { type BillingHarness, startBillingHarness } from "../harness/billing";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});

const unreachableDb = {
  rpc: async () => {
    throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
  },
};

/** The log line `settleAdmission` writes for a served degraded call whose record Postgres did not take. */
async function logLineFor(record: UsageRecord, mayBeInStream: boolean): Promise<string> {
  const admission: AdmittedRequest = {
    outcome: "admitted",
    mode: "degraded",
    record,
    rateLimit: { policy: "pro", limit: 100, windowSeconds: 10 },
    periodUnits: null,
    mayBeInStream,
  };
  const lines: string[] = [];
  const capture = (line: unknown) => {
    lines.push(String(line));
  };
  const error = vi.spyOn(console, "error").mockImplementation(capture);
  const warn = vi.spyOn(console, "warn").mockImplementation(capture);
  try {
    await settleAdmission({ redis: h.redis, db: unreachableDb }, admission, 200);
  } finally {
    error.mockRestore();
    warn.mockRestore();
  }
  const line = lines.find((text) => text.includes(record.id));
  if (!line) throw new Error(`no log line for ${record.id}: ${lines.join("\n")}`);
  return line;
}

const reenter = (line: string) =>
  run(process.execPath, ["--import", "tsx", "scripts/usage-batches.ts", "reenter", line], {
    cwd: ROOT,
    timeout: 30_000,
    env: { ...process.env, DATABASE_URL: h.stack.databaseUrl },
  });

describe("npm run usage-batches -- reenter", () => {
  it("bills a lost record once, and an unconfirmed one that did get through not twice", async () => {
    const customer = h.customer();
    // Got through: the timed-out admission recorded it in the stream; Postgres then failed too.
    const [inStream] = await h.admit(customer, 1, 3);
    const unconfirmed = await logLineFor(inStream!, true);
    expect(JSON.parse(unconfirmed)).toMatchObject({ level: "warn", may_be_in_stream: true });
    expect(JSON.parse(unconfirmed).msg).toMatch(/^usage record unconfirmed/);

    // Never got through: neither store took it.
    const never: UsageRecord = {
      id: `u_${crypto.randomUUID().replaceAll("-", "")}`,
      kind: "admit",
      requestId: "req-never",
      subject: `acct-${customer}`,
      stripeCustomerId: customer,
      tier: "pro",
      units: 2,
      occurredAtMs: Date.now() - 1000,
    };
    // It was served (a degraded admission answered 2xx): the Worker counted it as answered.
    await h.countAnswered(never);
    const lost = await logLineFor(never, false);
    expect(JSON.parse(lost)).toMatchObject({
      level: "error",
      msg: "usage record lost: neither redis nor postgres took it",
    });

    expect((await reenter(unconfirmed)).stdout).toContain(`recorded admit ${inStream!.id} (3 units)`);
    expect((await reenter(lost)).stdout).toContain(`recorded admit ${never.id} (2 units)`);
    // A second re-entry of the same line is a no-op.
    expect((await reenter(lost)).stdout).toContain("already recorded");

    for (let i = 0; i < 5; i++) {
      const report = await h.flush();
      if (report.events_attempted === 0 && !report.stream_backlog) break;
    }
    expect(h.stack.stripe.unitsByCustomer()[customer]).toBe(5);
    const reconciliation = await h.reconcile(customer);
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.rows).toMatchObject([{ admitted: 5, reported: 5, pending: 0 }]);
  });

  it("refuses a line that is not a usage record", async () => {
    await expect(reenter('{"msg":"request","status":200}')).rejects.toMatchObject({ code: 2 });
  });
});
