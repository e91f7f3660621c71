import type { Redis } from "@upstash/redis/cloudflare";
import { redisKeys } from "../../metering/scripts/keys";

/** One bucket of an account's usage counters: its UTC start and its units. */
export interface CountedBucket {
  start: string;
  units: number;
}

/** The read side of the day and hour usage counters (src/metering/scripts/usage-counters.ts). */
export interface UsageCounterCommands {
  /**
   * The subject's counted units per UTC day or hour, for the buckets that overlap [from, to),
   * oldest first, buckets without units left out. One request (a pipeline of one HGETALL per month or day the range touches).
   */
  usageCounters(
    subject: string,
    range: { from: Date; to: Date; granularity: "day" | "hour" },
  ): Promise<CountedBucket[]>;
}

const DAY_MS = 86_400_000;
const BUCKET_MS = { day: DAY_MS, hour: 3_600_000 } as const;

/** Without automatic deserialization HGETALL answers the flat [field, value, ...] list. */
function fieldsOf(reply: unknown): Array<[string, number]> {
  if (Array.isArray(reply)) {
    const fields: Array<[string, number]> = [];
    for (let i = 0; i + 1 < reply.length; i += 2) fields.push([String(reply[i]), Number(reply[i + 1])]);
    return fields;
  }
  if (reply && typeof reply === "object") return Object.entries(reply).map(([k, v]) => [k, Number(v)]);
  return [];
}

export function usageCounterCommands(client: Redis): UsageCounterCommands {
  return {
    async usageCounters(subject, { from, to, granularity }) {
      // The hashes the range touches: months for days, days for hours.
      const hashes: Array<{ key: string; prefix: string }> = [];
      const cursor = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
      if (granularity === "day") cursor.setUTCDate(1);
      while (cursor < to) {
        const iso = cursor.toISOString();
        if (granularity === "day") {
          hashes.push({ key: redisKeys.usageDays(subject, iso.slice(0, 7)), prefix: iso.slice(0, 8) });
          cursor.setUTCMonth(cursor.getUTCMonth() + 1);
        } else {
          hashes.push({ key: redisKeys.usageHours(subject, iso.slice(0, 10)), prefix: iso.slice(0, 11) });
          cursor.setTime(cursor.getTime() + DAY_MS);
        }
      }
      if (hashes.length === 0) return [];
      const pipeline = client.pipeline();
      for (const { key } of hashes) pipeline.hgetall(key);
      const replies = await pipeline.exec<unknown[]>();
      const buckets: CountedBucket[] = [];
      hashes.forEach(({ prefix }, i) => {
        for (const [field, units] of fieldsOf(replies[i])) {
          if (!(units > 0)) continue;
          // The ledger's bucket format; a bucket counts when it overlaps the range (counters know
          // the bucket, not the time within it).
          const start = granularity === "day" ? `${prefix}${field}T00:00:00Z` : `${prefix}${field}:00:00Z`;
          const at = Date.parse(start);
          if (at + BUCKET_MS[granularity] > from.getTime() && at < to.getTime())
            buckets.push({ start, units });
        }
      });
      return buckets.sort((a, b) => (a.start < b.start ? -1 : 1));
    },
  };
}
