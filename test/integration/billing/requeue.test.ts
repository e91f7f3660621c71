/**
 * The operator's way out of a dead letter, against real Redis, real Postgres and the fake Stripe:
 * usage of a customer Stripe does not know is dead-lettered; the operator creates the customer,
 * requeues the batch (`POST /admin/usage-batches/:id/requeue` or `npm run usage-batches --
 * requeue <id>`), the next flush sends it with the same identifier, and the reconciliation
 * identity holds with Stripe's units equal to admitted - compensated, exactly.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newApp } from "../../../src/app";
import type { Env } from "../../../src/env";
import { type BillingHarness, batchStatuses, startBillingHarness } from "../harness/billing";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");

let h: BillingHarness;
let env: Env;
const app = newApp();

beforeAll(async () => {
  h = await startBillingHarness();
  env = { ...h.stack.vars, FLUSH_SETTLE_SECONDS: "0" };
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  await h.reset();
});

const admin = () => ({ Authorization: `Bearer ${h.stack.secrets.adminToken}` });
const requeue = (id: string, headers: Record<string, string> = admin()) =>
  app.request(`http://api.test/admin/usage-batches/${id}/requeue`, { method: "POST", headers }, env);

let customers = 0;
/** A customer id Stripe does not know yet (the operator creates it later). */
const unknownCustomer = () => `cus_latecomer${Date.now().toString(36)}${++customers}`;

async function deadBatchOf(customer: string) {
  const reconciliation = await h.reconcile(customer);
  expect(reconciliation.dead_letters).toHaveLength(1);
  return reconciliation.dead_letters[0]!;
}

async function script(args: string[]) {
  const { stdout, stderr } = await run(
    process.execPath,
    ["--import", "tsx", "scripts/usage-batches.ts", ...args],
    { cwd: ROOT, timeout: 30_000, env: { ...process.env, DATABASE_URL: h.stack.databaseUrl } },
  );
  return { stdout: stdout.trim(), stderr: stderr.trim() };
}

describe("POST /admin/usage-batches/:id/requeue", () => {
  it("sends a dead-lettered batch once its customer exists; billed exactly once", async () => {
    const [known, late] = [h.customer(), unknownCustomer()];
    await h.admit(known, 5);
    const records = await h.admit(late, 4, 3);
    await h.compensate(records[0]!); // one refunded 5xx: 4 x 3 - 3 = 9 units to bill
    const first = await h.flush();
    expect(first).toMatchObject({ sent: 1, dead_lettered: 1 });
    const dead = await deadBatchOf(late);
    expect(dead).toMatchObject({ units: 9, reason: expect.stringMatching(/resource_missing/) });

    // The operator fixes the cause, then requeues.
    h.stack.stripe.createCustomer({ id: late });
    const response = await requeue(dead.id);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toMatchObject({
      requeued: true,
      batch: { id: dead.id, status: "pending", attempts: 0, units: 9, dead_reason: null },
    });
    // Requeued once: a second call finds it pending, not dead.
    const again = await requeue(dead.id);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "USAGE_BATCH_NOT_DEAD", batch_status: "pending" });

    const next = await h.flush();
    expect(next).toMatchObject({ sent: 1, units_sent: 9, dead_lettered: 0 });
    // Same identifier as the batch that was dead-lettered: a requeue never regroups records.
    expect(h.stack.stripe.meterEvents().map((event) => event.identifier)).toContain(dead.id);
    expect(await batchStatuses(h)).toEqual({ sent: 2 });
    const reconciliation = await h.expectExactlyBilled();
    expect(reconciliation.totals).toMatchObject({
      admitted: 5 + 12,
      compensated: 3,
      reported: 14,
      pending: 0,
      dead_lettered: 0,
    });
    expect(h.stack.stripe.unitsByCustomer()).toEqual({ [known]: 5, [late]: 9 });
  });

  it("404 for an unknown batch, 409 for one that is not dead-lettered, 401 without the admin token", async () => {
    const customer = h.customer();
    await h.admit(customer, 2);
    await h.flush();
    const { rows } = await h.sql.query<{ id: string }>("select id from public.usage_batches");
    const sent = rows[0]!.id;

    expect((await requeue(sent, {})).status).toBe(401);
    const notDead = await requeue(sent);
    expect(notDead.status).toBe(409);
    expect(notDead.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await notDead.json()).toMatchObject({ code: "USAGE_BATCH_NOT_DEAD", batch_status: "sent" });
    for (const unknown of [`smu_${"0".repeat(32)}`, "not-a-batch"]) {
      const missing = await requeue(unknown);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await app.request(`http://api.test/admin/usage-batches/${sent}/requeue`, {}, env)).status).toBe(
      405,
    );
    await h.expectExactlyBilled();
  });
});

describe("npm run usage-batches", () => {
  it("lists dead-lettered batches and requeues one; the next flush sends it", async () => {
    const late = unknownCustomer();
    await h.admit(late, 7);
    await h.admit(h.customer(), 1);
    expect(await h.flush()).toMatchObject({ dead_lettered: 1 });
    const dead = await deadBatchOf(late);

    const listed = await script(["list", "--status", "dead"]);
    expect(listed.stdout.split("\n")).toEqual([expect.stringContaining(`${dead.id}  dead  ${late}`)]);
    expect(listed.stdout).toContain("resource_missing");
    const json = JSON.parse((await script(["list", "--status", "dead", "--json"])).stdout) as unknown[];
    expect(json).toEqual([expect.objectContaining({ id: dead.id, status: "dead", units: 7 })]);

    h.stack.stripe.createCustomer({ id: late });
    expect((await script(["requeue", dead.id])).stdout).toBe(
      `requeued ${dead.id} (${late}, ${dead.period}, 7 units)`,
    );
    await expect(script(["requeue", dead.id])).rejects.toMatchObject({ code: 1 });
    await expect(script(["requeue", `smu_${"f".repeat(32)}`])).rejects.toMatchObject({ code: 1 });
    await expect(script(["requeue"])).rejects.toMatchObject({ code: 2 });
    await expect(script(["list", "--status", "lost"])).rejects.toMatchObject({ code: 2 });
    expect((await script(["list", "--status", "dead"])).stdout).toBe("");

    expect(await h.flush()).toMatchObject({ sent: 1, units_sent: 7 });
    await h.expectExactlyBilled();
  });
});
