import type { Redis } from "@upstash/redis/cloudflare";
import type { SpendCapState } from "../../metering/monthly-allowance";
import { redisKeys, SPEND_CAP_TTL_SECONDS } from "../../metering/scripts/keys";
import { PUT_SPEND_CAP_LUA } from "../../metering/scripts/put-spend-cap";

/** The spend cap's mirror in Redis, read by admission (admit-usage, KEYS[9]). */
export interface SpendCapCommands {
  /**
   * Mirrors what Postgres says of a subject's spend cap, unless Redis holds a newer version (see
   * put-spend-cap). One request; true if written. Throws on error or timeout.
   */
  putSpendCap(subject: string, cap: SpendCapState): Promise<boolean>;
}

export function spendCapCommands(client: Redis): SpendCapCommands {
  const script = client.createScript<number>(PUT_SPEND_CAP_LUA);
  return {
    async putSpendCap(subject, { units, version }) {
      const reply = await script.exec(
        [redisKeys.spendCap(subject)],
        [units === null ? "" : String(units), String(version), String(SPEND_CAP_TTL_SECONDS)],
      );
      return Number(reply) === 1;
    },
  };
}
