import type { Redis } from "@upstash/redis/cloudflare";
import { redisKeys } from "../../metering/scripts/keys";

/** Answered-unit counts outlive their last write by about 13 months: a year of periods can be reconciled. */
const ANSWERED_TTL_SECONDS = 400 * 24 * 3600;

/**
 * The Redis side of the answered-units count (src/metering/answered-units.ts): a hash per UTC month,
 * one field per Stripe customer. Storage grows with customers × months, never with requests.
 */
export function answeredUnitsCommands(client: Redis) {
  return {
    /** HINCRBY and EXPIRE in one request (one pipeline). */
    async countAnsweredUnits(stripeCustomerId: string, period: string, units: number): Promise<void> {
      const key = redisKeys.answeredUnits(period);
      await client.pipeline().hincrby(key, stripeCustomerId, units).expire(key, ANSWERED_TTL_SECONDS).exec();
    },

    async answeredUnits(period: string): Promise<Record<string, number>> {
      // Without automatic deserialization HGETALL answers the flat [field, value, ...] list.
      const reply: unknown = await client.hgetall(redisKeys.answeredUnits(period));
      const counts: Record<string, number> = {};
      if (Array.isArray(reply)) {
        for (let i = 0; i + 1 < reply.length; i += 2) counts[String(reply[i])] = Number(reply[i + 1]);
      } else if (reply && typeof reply === "object") {
        for (const [customer, units] of Object.entries(reply)) counts[customer] = Number(units);
      }
      return counts;
    },
  };
}
