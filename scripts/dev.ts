/**
 * `npm run dev`: the API on http://127.0.0.1:8787 (PORT overrides) with no cloud accounts.
 *
 * Uses REDIS_URL / DATABASE_URL when set, else finds or starts local servers; applies the
 * migrations; keeps generated secrets in .local/dev-secrets.json (git-ignored); passes any
 * configuration name set in this environment through to the Worker over the local defaults;
 * runs the real Worker under `wrangler dev`, offline, firing its cron every minute. Billing works end to end with the fake Stripe:
 * the meter, products and metered prices are set up as `npm run stripe:setup` would, and a webhook
 * endpoint for the Worker's `/webhooks/stripe` is registered with it, so paying on the fake's
 * checkout page upgrades the account. Where everything runs is written to .local/dev-stack.json
 * for the operator scripts (keys, token, reconcile, stripe:setup, usage-batches).
 */
import type Stripe from "stripe";
import { createStripeClient } from "../src/adapters/stripe/sdk";
import { HANDLED_EVENT_TYPES } from "../src/billing/webhooks/stripe-event";
import { CONFIG_NAMES, ConfigError, parseConfig } from "../src/config";
import { loadDevSecrets } from "../test/support/local-secrets";
import { type LocalStack, startLocalStack, type WorkerVars } from "../test/support/local-stack";
import {
  DEV_DATABASE,
  ensureDatabase,
  findOrStartPostgres,
  type PostgresHandle,
} from "../test/support/postgres";
import { startWranglerDev, type WorkerProcess } from "../test/support/wrangler-dev";
import { removeDevStack, writeDevStack } from "./lib/dev-stack";
import { setupStripe } from "./stripe-setup";

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

/**
 * Sets the fake Stripe up for the Worker at `workerUrl`: what `npm run stripe:setup` creates (meter,
 * product and metered price per paid tier) and a webhook endpoint for its `/webhooks/stripe`, whose
 * signing secret (Stripe makes one per endpoint) the Worker is given as STRIPE_WEBHOOK_SECRET.
 */
async function connectFakeStripe(
  stack: LocalStack,
  vars: Partial<WorkerVars>,
  workerUrl: string,
  say: (line: string) => void,
): Promise<Partial<WorkerVars>> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(vars);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    say(`fake Stripe not set up: the configuration is invalid (${error.problems.join("; ")})`);
    return {};
  }
  const stripe = createStripeClient({
    secretKey: stack.stripe.apiKey,
    apiBase: stack.stripe.url,
    timeoutMs: 5000,
  });
  const setup = await setupStripe(stripe, {
    eventName: config.STRIPE_METER_EVENT_NAME,
    lookupKeys: config.BILLING_PRICE_LOOKUP_KEYS,
    currency: "usd",
    unitAmountDecimal: "0.1",
  });
  const endpoint = await stripe.webhookEndpoints.create({
    url: `${workerUrl}/webhooks/stripe`,
    enabled_events: HANDLED_EVENT_TYPES as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
    description: "npm run dev",
  });
  if (!endpoint.secret) throw new Error("the fake Stripe returned a webhook endpoint without a secret");
  const prices = Object.entries(setup.tiers).map(([tier, ids]) => `${tier} ${ids.price}`);
  say(`fake Stripe: meter ${setup.meter.id}, prices ${prices.join(", ")}, webhooks to ${endpoint.url}`);
  // Back to the console after paying or giving up on the fake's checkout page: it shows the tier.
  const consolePage = `${workerUrl}/console`;
  return {
    STRIPE_WEBHOOK_SECRET: endpoint.secret,
    BILLING_SUCCESS_URL: consolePage,
    BILLING_CANCEL_URL: consolePage,
  };
}

async function main() {
  const started = performance.now();
  const say = (line: string) => console.log(`[dev] ${line}`);
  let database: { url: string; server?: PostgresHandle } | undefined;
  let stack: LocalStack | undefined;
  let worker: WorkerProcess | undefined;
  const shutdown = async (code: number) => {
    removeDevStack();
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
    // With a real Stripe in the environment (STRIPE_SECRET_KEY or STRIPE_API_BASE), nothing is set up.
    const fakeStripe = overrides.STRIPE_SECRET_KEY === undefined && overrides.STRIPE_API_BASE === undefined;
    const billing = fakeStripe
      ? await connectFakeStripe(stack, { ...stack.vars, ...overrides }, `http://127.0.0.1:${port}`, say)
      : {};
    worker = await startWranglerDev({
      // E-mailed sign-in links point at this server (configuration, never the request's Host).
      vars: { ...stack.vars, CONSOLE_URL: `http://127.0.0.1:${port}`, ...billing, ...overrides },
      port,
      echo: false,
      testScheduled: true,
    });
    await writeDevStack({
      pid: process.pid,
      worker_url: worker.url,
      database_url: database.url,
      upstash_redis_rest_url: stack.redisBridge.url,
      upstash_redis_rest_token: stack.secrets.redisToken,
      stripe_api_base: stack.stripe.url,
      stripe_secret_key: stack.stripe.apiKey,
    });
    if (fakeStripe) {
      say(`fake Stripe: STRIPE_API_BASE=${stack.stripe.url} STRIPE_SECRET_KEY=${stack.stripe.apiKey}`);
      say(
        "operator scripts (keys, token, reconcile, stripe:setup, usage-batches) use this stack while it runs",
      );
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`\nReady in ${seconds}s: ${worker.url}   (Ctrl-C stops everything)\n`);
    console.log(
      [
        `  curl -s ${worker.url}/health/ready`,
        "  KEY=$(npm run -s keys -- create --email dev@example.com)",
        `  curl -s ${worker.url}/v1/validate -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\`,
        `    -d '{"schema": {"type": "object", "required": ["id"]}, "data": {"name": "x"}}'`,
        `  docs: ${worker.url}/docs   console: ${worker.url}/console`,
        "",
      ].join("\n"),
    );
    forwardWorkerLogs(worker);
    printSentEmails(stack);
    runCron(worker);
  } catch (error) {
    console.error(`[dev] could not start: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}

/**
 * The Worker's cron (wrangler.toml: every minute), which `wrangler dev` does not fire by itself:
 * fired now (usage an earlier dev run left in the shared Redis is flushed, so `npm run reconcile`
 * does not find it stalled) and every minute, as Cloudflare fires it.
 */
function runCron(worker: WorkerProcess) {
  const fire = () =>
    fetch(`${worker.url}/__scheduled?cron=*+*+*+*+*`, { signal: AbortSignal.timeout(55_000) }).catch(
      (error) =>
        console.error(`[dev] cron run failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  void fire();
  setInterval(fire, 60_000).unref();
}

/** The fake Resend's messages (console sign-in links), printed as they are sent: dev has no inbox. */
function printSentEmails(stack: LocalStack) {
  let printed = 0;
  setInterval(() => {
    const messages = stack.resend.messages();
    for (const message of messages.slice(printed)) {
      console.log(`[dev] e-mail to ${message.to.join(", ")}: ${message.subject}\n${message.text ?? ""}\n`);
    }
    printed = messages.length;
  }, 1000).unref();
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
