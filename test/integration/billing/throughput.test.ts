/**
 * How many meter events one flush run sends here (local fake Stripe, real Redis and Postgres, six
 * events in flight as in a Worker). The figure is printed and written to
 * `$TMPDIR/billing-throughput.json`; the assertion only guards against a collapse.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type BillingHarness, meterEventPosts, startBillingHarness } from "../harness/billing";

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => {
  await h?.stop();
});

it("sends hundreds of meter events per run, each batch once", { timeout: 120_000 }, async () => {
  const customers = 600;
  for (let i = 0; i < customers; i++) await h.admit(h.customer(), 1 + (i % 3));
  const started = performance.now();
  const report = await h.flush({ maxEvents: customers, timeBudgetMs: 60_000 });
  const seconds = (performance.now() - started) / 1000;
  expect(report.sent).toBe(customers);
  // Each batch once: one meter-event POST per sent batch, every one accepted, no identifier twice.
  const posts = meterEventPosts(h);
  expect(posts).toHaveLength(report.sent);
  expect(posts.filter((post) => post.status === 200)).toHaveLength(report.sent);
  expect(new Set(posts.map((post) => post.body.identifier)).size).toBe(report.sent);
  const perMinute = Math.round((report.sent / seconds) * 60);
  const figure = {
    events: report.sent,
    records: report.ingested,
    run_seconds: Number(seconds.toFixed(2)),
    events_per_minute: perMinute,
    concurrency: 6,
  };
  writeFileSync(join(tmpdir(), "billing-throughput.json"), JSON.stringify(figure, null, 2));
  console.info(`flush throughput: ${JSON.stringify(figure)}`);
  expect(perMinute).toBeGreaterThan(1000);
  await h.expectExactlyBilled();
  // Nothing was left to send: the later runs made no request.
  expect(meterEventPosts(h)).toHaveLength(report.sent);
});
