import { Redis } from "@upstash/redis/cloudflare";

/** What the Worker needs from Redis. Later features add their scripts here, one method each. */
export interface RedisAdapter {
  /** Round trip to Redis; throws on error or timeout. */
  ping(): Promise<void>;
}

export interface UpstashRedisOptions {
  url: string;
  token: string;
  /** Per-request budget; the hot path cannot wait long for Redis. */
  timeoutMs: number;
}

/** The Upstash REST client with a timeout on every call and no hidden retries. */
export function createUpstashClient({ url, token, timeoutMs }: UpstashRedisOptions): Redis {
  return new Redis({
    url,
    token,
    // A fresh signal per request: a timed-out call is aborted, not retried behind our back.
    signal: () => AbortSignal.timeout(timeoutMs),
    retry: false,
    enableTelemetry: false,
    latencyLogging: false,
    automaticDeserialization: false,
  });
}

export function createRedisAdapter(options: UpstashRedisOptions): RedisAdapter {
  const client = createUpstashClient(options);
  return {
    async ping() {
      const reply = await client.ping();
      if (reply !== "PONG") throw new Error(`unexpected PING reply: ${String(reply)}`);
    },
  };
}
