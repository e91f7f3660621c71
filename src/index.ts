import { newApp } from "./app";
import { runScheduledFlush } from "./billing/scheduled";
import type { Env } from "./env";

const app = newApp();

export default {
  fetch: app.fetch,
  // Cron trigger (every minute, wrangler.toml): the usage flusher.
  async scheduled(_controller, env) {
    await runScheduledFlush(env);
  },
} satisfies ExportedHandler<Env>;
