import type { Redis } from "@upstash/redis/cloudflare";
import { COUNT_ANSWERED_LUA } from "../../metering/scripts/count-answered";
import { ANSWERED_SINCE_KEY, redisKeys } from "../../metering/scripts/keys";

/** Answered-unit counts outlive their last write by about 13 months: a year of days can be reconciled. */
const ANSWERED_TTL_SECONDS = 400 * 24 * 3600;

/** The Redis side of the answered-units count, as the adapter offers it. */
export interface AnsweredUnitsCommands {
  /** Adds `units` answered 2xx to a customer's count for a UTC day `YYYY-MM-DD` (one request). */
  countAnsweredUnits(
    stripeCustomerId: string,
    day: string,
    units: number,
    admittedAtMs: number,
  ): Promise<void>;
  /** The answered units of a UTC day by Stripe customer. */
  answeredUnits(day: string): Promise<Record<string, number>>;
  /** When counting began (the first counted call's admission, ms); null before any count. */
  answeredSince(): Promise<number | null>;
}

/**
 * The Redis side of the answered-units count (src/metering/answered-units.ts): a hash per UTC day,
 * one field per Stripe customer. Storage grows with customers × days, never with requests.
 */
export function answeredUnitsCommands(client: Redis): AnsweredUnitsCommands {
  const countScript = client.createScript<number>(COUNT_ANSWERED_LUA);
  return {
    /** One script, one request (see count-answered.ts). */
    async countAnsweredUnits(stripeCustomerId, day, units, admittedAtMs) {
      await countScript.exec(
        [redisKeys.answeredUnits(day), ANSWERED_SINCE_KEY],
        [stripeCustomerId, String(units), String(ANSWERED_TTL_SECONDS), String(admittedAtMs)],
      );
    },

    async answeredUnits(day) {
      // Without automatic deserialization HGETALL answers the flat [field, value, ...] list.
      const reply: unknown = await client.hgetall(redisKeys.answeredUnits(day));
      const counts: Record<string, number> = {};
      if (Array.isArray(reply)) {
        for (let i = 0; i + 1 < reply.length; i += 2) counts[String(reply[i])] = Number(reply[i + 1]);
      } else if (reply && typeof reply === "object") {
        for (const [customer, units] of Object.entries(reply)) counts[customer] = Number(units);
      }
      return counts;
    },

    async answeredSince() {
      const since = await client.get<string>(ANSWERED_SINCE_KEY);
      return since === null || since === undefined ? null : Number(since);
    },
  };
}
