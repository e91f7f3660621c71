import type { Redis } from "@upstash/redis/cloudflare";
import { DRAIN_USAGE_LUA } from "../../billing/scripts/drain-usage";
import {
  RELEASE_BUCKETS_LUA,
  SEAL_BUCKETS_LUA,
  SYNC_BOUNDARIES_LUA,
} from "../../billing/scripts/seal-buckets";
import {
  BOUNDS_CURSOR_KEY,
  OPEN_BUCKETS_KEY,
  SEALED_BUCKETS_KEY,
  USAGE_DEAD_LETTER_KEY,
  USAGE_STREAM_KEY,
} from "../../metering/scripts/keys";
import { APPEND_MARKER_TTL_SECONDS, USAGE_STREAM_TTL_SECONDS } from "./admission";

/** What one drain-usage call did (src/billing/scripts/drain-usage.ts). */
export interface DrainedChunk {
  /** Stream entries taken and deleted. */
  entries: number;
  billable: number;
  free: number;
  poison: number;
  /** Admissions already counted (a timed-out admission's replay). */
  duplicates: number;
  /** Compensations whose admission was never counted: kept apart, not billed. */
  orphans: number;
  /** Buckets written. */
  buckets: number;
}

/** A sealed bucket as Postgres takes it (`ingest_usage_buckets`). */
export interface SealedBucket {
  id: string;
  stripe_customer_id: string;
  subject: string;
  /** Unix seconds. */
  starts_at: number;
  admitted: number;
  compensated: number;
  orphaned: number;
  records: number;
  /** Unix ms of the earliest and the latest record. */
  first_at: number;
  last_at: number;
}

export interface UsageBucketCommands {
  /** One chunk of the stream into the buckets, atomically; entries newer than `newestMs` stay. */
  drainUsage(input: {
    maxEntries: number;
    newestMs: number;
    nowMs: number;
    heldIds: string[];
  }): Promise<DrainedChunk>;
  /** Seals the buckets that are done and returns every sealed bucket not yet released. */
  sealUsageBuckets(input: {
    nowMs: number;
    quietMs: number;
    openMostMs: number;
    limit: number;
  }): Promise<{ sealed: number; buckets: SealedBucket[] }>;
  /** Deletes sealed buckets that Postgres holds. */
  releaseUsageBuckets(ids: string[]): Promise<number>;
  /** The recorded_at (ms) of the latest billing period mirrored, null when none (or Redis lost it). */
  billingBoundariesCursor(): Promise<number | null>;
  /** Mirrors period boundaries for the drain, and moves the cursor. */
  syncBillingBoundaries(
    boundaries: { customer: string; boundary: number }[],
    cursorMs: number | null,
  ): Promise<void>;
}

/** Buckets (open and sealed) live as long as the stream's entries would: the flusher never waits that long. */
const BUCKET_TTL_SECONDS = USAGE_STREAM_TTL_SECONDS;
/** Boundaries are needed for as long as Stripe takes an event's timestamp back (35 days), and a bit. */
export const BOUNDARY_TTL_SECONDS = 40 * 24 * 3600;

function bucketOf(flat: unknown): SealedBucket | null {
  if (!Array.isArray(flat)) return null;
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[String(flat[i])] = String(flat[i + 1]);
  if (!f.id || !f.c || f.s === undefined) return null;
  return {
    id: f.id,
    stripe_customer_id: f.c,
    subject: f.s,
    starts_at: Number(f.t ?? 0),
    admitted: Number(f.a ?? 0),
    compensated: Number(f.m ?? 0),
    orphaned: Number(f.o ?? 0),
    records: Number(f.n ?? 0),
    first_at: Number(f.e ?? f.l ?? 0),
    last_at: Number(f.l ?? 0),
  };
}

export function usageBucketCommands(client: Redis): UsageBucketCommands {
  const drainScript = client.createScript<number[]>(DRAIN_USAGE_LUA);
  const sealScript = client.createScript<[number, unknown[]]>(SEAL_BUCKETS_LUA);
  const releaseScript = client.createScript<number>(RELEASE_BUCKETS_LUA);
  const syncScript = client.createScript<number>(SYNC_BOUNDARIES_LUA);
  return {
    async drainUsage({ maxEntries, newestMs, nowMs, heldIds }) {
      const reply = await drainScript.exec(
        [USAGE_STREAM_KEY, USAGE_DEAD_LETTER_KEY, OPEN_BUCKETS_KEY],
        [
          String(maxEntries),
          String(Math.floor(newestMs)),
          String(BUCKET_TTL_SECONDS),
          String(USAGE_STREAM_TTL_SECONDS),
          String(nowMs),
          String(APPEND_MARKER_TTL_SECONDS),
          ...heldIds,
        ],
      );
      const [entries, billable, free, poison, duplicates, orphans, buckets] = reply.map(Number);
      return {
        entries: entries ?? 0,
        billable: billable ?? 0,
        free: free ?? 0,
        poison: poison ?? 0,
        duplicates: duplicates ?? 0,
        orphans: orphans ?? 0,
        buckets: buckets ?? 0,
      };
    },

    async sealUsageBuckets({ nowMs, quietMs, openMostMs, limit }) {
      const prefix = `smb_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}_`;
      const [sealed, raw] = await sealScript.exec(
        [OPEN_BUCKETS_KEY, SEALED_BUCKETS_KEY],
        [
          String(nowMs),
          String(quietMs),
          String(openMostMs),
          prefix,
          String(limit),
          String(BUCKET_TTL_SECONDS),
        ],
      );
      const buckets = (raw ?? []).map(bucketOf).filter((b): b is SealedBucket => b !== null);
      return { sealed: Number(sealed), buckets };
    },

    async releaseUsageBuckets(ids) {
      if (ids.length === 0) return 0;
      return Number(await releaseScript.exec([SEALED_BUCKETS_KEY], ids));
    },

    async billingBoundariesCursor() {
      const value = await client.get<string>(BOUNDS_CURSOR_KEY);
      return value === null || value === undefined ? null : Number(value);
    },

    async syncBillingBoundaries(boundaries, cursorMs) {
      await syncScript.exec(
        [BOUNDS_CURSOR_KEY],
        [
          String(BOUNDARY_TTL_SECONDS),
          cursorMs === null ? "" : String(cursorMs),
          ...boundaries.flatMap(({ customer, boundary }) => [customer, String(boundary)]),
        ],
      );
    },
  };
}
