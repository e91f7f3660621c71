import type { Redis } from "@upstash/redis/cloudflare";
import { redisKeys, SPEND_CAP_TTL_SECONDS } from "../../metering/scripts/keys";

/** The spend cap's mirror in Redis, read by admission (admit-usage, KEYS[9]). */
export interface SpendCapCommands {
  /**
   * Mirrors what Postgres says of a subject's spend cap: `units` a month for SPEND_CAP_TTL_SECONDS,
   * or (null) no cap. One request; throws on error or timeout.
   */
  setSpendCap(subject: string, units: number | null): Promise<void>;
}

export function spendCapCommands(client: Redis): SpendCapCommands {
  return {
    async setSpendCap(subject, units) {
      if (units === null) await client.del(redisKeys.spendCap(subject));
      else await client.set(redisKeys.spendCap(subject), String(units), { ex: SPEND_CAP_TTL_SECONDS });
    },
  };
}
