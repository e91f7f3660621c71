import { newApp } from "./app";
import { runScheduledDunning, runScheduledFlush, runScheduledGraceExpiry } from "./billing/scheduled";
import type { Env } from "./env";
import { CRON_MONITORS, monitoredRun, withErrorTracking } from "./observability/error-tracking";

const app = newApp();

// Error tracking (Sentry) wraps both handlers when SENTRY_DSN is set; see observability/error-tracking.ts.
export default withErrorTracking({
  fetch: app.fetch,
  // Cron trigger (every minute, wrangler.toml): the usage flusher, the edge denial of past-due
  // accounts whose grace period has ended, and dunning e-mails (reminders, retries). Independent;
  // none throws for an outage.
  // Each run is a check-in of its Sentry cron monitor.
  async scheduled(_controller: ScheduledController, env: Env) {
    await Promise.all([
      monitoredRun(env, CRON_MONITORS.flush, () => runScheduledFlush(env)),
      monitoredRun(env, CRON_MONITORS.graceExpiry, () => runScheduledGraceExpiry(env)),
      monitoredRun(env, CRON_MONITORS.dunning, () => runScheduledDunning(env)),
    ]);
  },
});
