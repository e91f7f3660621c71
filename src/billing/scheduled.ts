/**
 * The cron trigger's work: one flush run with services built from the Worker's env, once per
 * configuration (as `newApp` does for requests). A broken configuration is logged, not thrown:
 * the run is simply skipped and the next minute tries again.
 */
import { type Config, ConfigError, loadConfig } from "../config";
import type { Env } from "../env";
import { log } from "../lib/log";
import { createServices, type Services, type ServicesFactory } from "../services";
import { type FlushReport, flushUsage } from "./flusher";

const servicesByConfig = new WeakMap<Config, Services>();

/** Runs the usage flusher for a `scheduled` event. Null when the configuration is invalid. */
export async function runScheduledFlush(
  env: Env,
  buildServices: ServicesFactory = createServices,
): Promise<FlushReport | null> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", "usage flush skipped: configuration invalid", { problems: error.problems.join("; ") });
    return null;
  }
  let services = servicesByConfig.get(config);
  if (!services) {
    services = buildServices(config);
    servicesByConfig.set(config, services);
  }
  const { redis, db, stripe } = services;
  return flushUsage({ redis, db, stripe, settings: config });
}
