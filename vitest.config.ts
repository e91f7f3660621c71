import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Test projects, all run by `npm test`:
 * - unit: Node; pure logic beside the code, plus the local bridges and fakes against real servers.
 * - integration: Node; the app factory against real Redis, Postgres and the Stripe fake.
 * - worker: the Worker inside workerd (@cloudflare/vitest-plugin); it allows eval, production does not.
 * - security: the denial-of-service reproductions against the built Worker under `workerd serve`,
 *   with bounds on wall time, workerd's peak memory and /health latency; it runs last, alone.
 * - e2e: the built Worker under `wrangler dev` (real workerd, eval forbidden) against the local stack.
 * - faults: issue 15's fault reproductions against the local stack (test/faults). `npm test` runs
 *   the pipeline scenarios; the outages (Redis killed, Postgres stopped, the Worker killed
 *   mid-flush, admission under latency) run with FAULTS=full, as `npm run test:faults` sets it.
 * Every suite starts and stops its own servers on free ports.
 */
export default defineConfig({
  test: {
    // Worker logs (one JSON line per request) are shown for failing tests only.
    silent: "passed-only",
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: [
            "src/**/*.test.ts",
            "test/unit/**/*.test.ts",
            "test/bridges/**/*.test.ts",
            "test/fakes/**/*.test.ts",
            "clients/**/*.test.ts",
          ],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          environment: "node",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: inject("workerVars") },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/support/worker-global-setup.ts"],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "security",
          environment: "node",
          include: ["test/security/**/*.test.ts"],
          // One workerd per attack, its peak memory measured: one file at a time on two cores, and
          // after every other project, so that its /health latencies are not other suites' load.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "faults",
          environment: "node",
          include: ["test/faults/**/*.test.ts"],
          // Each file stops and starts servers of its own (and one a wrangler dev): one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          // Each file runs its own wrangler dev (a workerd process): one at a time on two cores.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
