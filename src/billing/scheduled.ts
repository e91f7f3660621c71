/**
 * The cron trigger's work: one flush run, one grace-expiry run and one dunning run (reminders
 * recorded, pending e-mails sent), with services built from the
 * Worker's env, once per configuration (as `newApp` does for requests). A broken configuration is
 * logged, not thrown: the run is simply skipped and the next minute tries again.
 */
import { type Config, ConfigError, loadConfig } from "../config";
import type { Env } from "../env";
import { log } from "../lib/log";
import { createServices, type Services, type ServicesFactory, servicesFor } from "../services";
import { type DunningRunReport, runDunning } from "./dunning-run";
import { flushSettingsOf } from "./flush-run";
import { type FlushReport, flushUsage } from "./flusher";
import { enforceGraceExpiry, type GraceExpiryReport } from "./grace-expiry";

/** Runs the usage flusher for a `scheduled` event. Null when the configuration is invalid. */
export async function runScheduledFlush(
  env: Env,
  buildServices: ServicesFactory = createServices,
): Promise<FlushReport | null> {
  const context = scheduledContext(env, buildServices, "usage flush");
  if (!context) return null;
  const { redis, db, stripe } = context.services;
  return flushUsage({ redis, db, stripe, settings: flushSettingsOf(context.config) });
}

/**
 * Denies at the edge the past-due accounts whose grace period has ended (see grace-expiry.ts).
 * Null when the configuration is invalid.
 */
export async function runScheduledGraceExpiry(
  env: Env,
  buildServices: ServicesFactory = createServices,
): Promise<GraceExpiryReport | null> {
  const context = scheduledContext(env, buildServices, "grace expiry");
  if (!context) return null;
  const { redis, db } = context.services;
  return enforceGraceExpiry({ redis, db });
}

/**
 * Records the grace reminders now due and sends the pending dunning e-mails, retrying those the
 * provider refused (see dunning-run.ts). Null when the configuration is invalid.
 */
export async function runScheduledDunning(
  env: Env,
  buildServices: ServicesFactory = createServices,
): Promise<DunningRunReport | null> {
  const context = scheduledContext(env, buildServices, "dunning e-mails");
  if (!context) return null;
  const { db, email } = context.services;
  return runDunning({ db, email, config: context.config }, { source: "cron", reminders: true });
}

function scheduledContext(
  env: Env,
  buildServices: ServicesFactory,
  task: string,
): { config: Config; services: Services } | null {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", `${task} skipped: configuration invalid`, { problems: error.problems.join("; ") });
    return null;
  }
  return { config, services: servicesFor(config, buildServices) };
}
