import type { Redis } from "@upstash/redis/cloudflare";
import type { ApiKeyEntry } from "../../access/api-key-entry";
import { PUT_API_KEY_LUA } from "../../access/scripts/put-api-key";
import { NO_API_KEY, redisKeys, SPEND_CAP_TTL_SECONDS } from "../../metering/scripts/keys";

/** The hot path's entries of API keys (see put-api-key.ts), as the adapter offers them. */
export interface ApiKeyEntryCommands {
  /**
   * Writes a key's entry: "set" after a change Postgres committed (creation, revocation, roll),
   * "fill" after a miss (only if there is still no entry). True if written.
   */
  putApiKeyEntry(entry: ApiKeyEntry, mode: "set" | "fill"): Promise<boolean>;
}

export function apiKeyEntryCommands(client: Redis): ApiKeyEntryCommands {
  const script = client.createScript<number>(PUT_API_KEY_LUA);
  return {
    async putApiKeyEntry(entry, mode) {
      const reply = await script.exec(
        [
          redisKeys.apiKeyEntry(entry.keyHash),
          redisKeys.denyApiKey(entry.apiKeyId ?? NO_API_KEY),
          redisKeys.spendCap(entry.subject ?? NO_API_KEY),
        ],
        [
          mode,
          entry.state,
          entry.subject ?? "",
          entry.apiKeyId ?? "",
          entry.tier ?? "",
          entry.stripeCustomerId ?? "",
          entry.expiresAtMs === null ? "" : String(entry.expiresAtMs),
          String(entry.ttlSeconds),
          String(entry.denyTtlSeconds),
          entry.spendCap === undefined || entry.subject === null
            ? "keep"
            : entry.spendCap.units === null
              ? ""
              : String(entry.spendCap.units),
          String(SPEND_CAP_TTL_SECONDS),
          String(entry.spendCap?.version ?? 0),
        ],
      );
      return Number(reply) === 1;
    },
  };
}
