/**
 * `npm run dev`: the API on http://127.0.0.1:8787 (PORT overrides) with no cloud accounts.
 *
 * Uses REDIS_URL / DATABASE_URL when set, else finds or starts local servers; applies the
 * migrations; keeps generated secrets in .local/dev-secrets.json (git-ignored); passes any
 * configuration name set in this environment through to the Worker over the local defaults;
 * runs the real Worker under `wrangler dev`, offline.
 */
import { CONFIG_NAMES } from "../src/config";
import { loadDevSecrets } from "../test/support/local-secrets";
import { type LocalStack, startLocalStack, type WorkerVars } from "../test/support/local-stack";
import {
  DEV_DATABASE,
  ensureDatabase,
  findOrStartPostgres,
  type PostgresHandle,
} from "../test/support/postgres";
import { startWranglerDev, type WorkerProcess } from "../test/support/wrangler-dev";

/** The dev database lives on across runs; created on first use. Returns the server to stop, if started here. */
async function devDatabase(): Promise<{ url: string; server?: PostgresHandle }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
  const server = await findOrStartPostgres();
  return { url: await ensureDatabase(server, DEV_DATABASE), server };
}

function configOverrides(): Partial<WorkerVars> {
  return Object.fromEntries(
    CONFIG_NAMES.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]),
  );
}

async function main() {
  const started = performance.now();
  const say = (line: string) => console.log(`[dev] ${line}`);
  let database: { url: string; server?: PostgresHandle } | undefined;
  let stack: LocalStack | undefined;
  let worker: WorkerProcess | undefined;
  const shutdown = async (code: number) => {
    await worker?.stop();
    await stack?.stop();
    await database?.server?.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  try {
    const secrets = await loadDevSecrets();
    database = await devDatabase();
    stack = await startLocalStack({
      redis: "shared",
      databaseUrl: database.url,
      secrets,
      log: say,
    });
    const overrides = configOverrides();
    if (Object.keys(overrides).length > 0) say(`from your environment: ${Object.keys(overrides).join(", ")}`);
    const port = Number(process.env.PORT ?? 8787);
    worker = await startWranglerDev({
      vars: { ...stack.vars, ...overrides },
      port,
      echo: false,
      testScheduled: true,
    });
    say(`fake Stripe: ${stack.stripe.url}`);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`\nReady in ${seconds}s: ${worker.url}   (Ctrl-C stops everything)\n`);
    console.log(
      [
        `  curl -s ${worker.url}/health/ready`,
        "  TOKEN=$(npm run -s token -- --tier free)",
        `  curl -s ${worker.url}/v1/validate -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
        `    -d '{"schema": {"type": "object", "required": ["id"]}, "data": {"name": "x"}}'`,
        `  docs: ${worker.url}/docs`,
        "",
      ].join("\n"),
    );
    forwardWorkerLogs(worker);
  } catch (error) {
    console.error(`[dev] could not start: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}

/** Quiet by default: only the Worker's own JSON log lines and errors reach the terminal. */
function forwardWorkerLogs(worker: WorkerProcess) {
  let seen = worker.output().length;
  setInterval(() => {
    const output = worker.output();
    const fresh = output.slice(seen);
    seen = output.length;
    for (const line of fresh.split("\n")) {
      if (line.startsWith("{") || /error|✘/i.test(line)) console.log(line);
    }
  }, 250);
}

await main();
