import { newApp } from "./app";
import { runScheduledFlush, runScheduledGraceExpiry } from "./billing/scheduled";
import type { Env } from "./env";

const app = newApp();

export default {
  fetch: app.fetch,
  // Cron trigger (every minute, wrangler.toml): the usage flusher, and the edge denial of
  // past-due accounts whose grace period has ended. Independent; neither throws for an outage.
  async scheduled(_controller, env) {
    await Promise.all([runScheduledFlush(env), runScheduledGraceExpiry(env)]);
  },
} satisfies ExportedHandler<Env>;
