/**
 * `npm run bench:admission`: the latency of the one admission round trip (the Upstash REST client →
 * the local Upstash-REST bridge → a real redis-server running the admission script), as the Worker
 * makes it, alone and at a concurrency, to put figures under the latency model of ADMISSION_TIMEOUT_MS
 * (docs/deploy.md, "Admission latency"). Local figures have no network in them: they are the floor
 * that the round trip to the Upstash primary adds to.
 *
 *   npm run bench:admission [-- --calls 3000 --concurrency 1,16,64]
 */
import { createRedisAdapter } from "../../src/adapters/redis";
import { startLocalStack } from "../../test/support/local-stack";
import { parseArgs, say } from "../lib/access-cli";

const { flags } = parseArgs(process.argv.slice(2));
const calls = Number(flags.calls ?? 3000);
const levels = (flags.concurrency ?? "1,16,64").split(",").map(Number);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

const stack = await startLocalStack({ redis: "own" });
try {
  const redis = createRedisAdapter({
    url: stack.vars.UPSTASH_REDIS_REST_URL as string,
    token: stack.vars.UPSTASH_REDIS_REST_TOKEN as string,
    timeoutMs: 5000,
  });
  const tiers = { bench: { limit: 1_000_000_000, windowSeconds: 10 } };
  const admitOnce = async (n: number) => {
    const started = performance.now();
    await redis.admitUsage({
      usageId: `u_bench_${n}`,
      requestId: `req_bench_${n}`,
      subject: `bench-subject-${n % 50}`,
      apiKeyId: null,
      stripeCustomerId: "cus_bench",
      tier: "bench",
      units: 1,
      nowMs: Date.now(),
      tiers,
    });
    return performance.now() - started;
  };
  for (let i = 0; i < 200; i++) await admitOnce(i); // warm-up: connections, script cache
  console.log("| concurrency | calls | p50 ms | p99 ms | p99.9 ms | max ms | over 50 ms |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const concurrency of levels) {
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < calls) latencies.push(await admitOnce(next++));
      }),
    );
    latencies.sort((a, b) => a - b);
    const over = latencies.filter((ms) => ms > 50).length;
    const f = (ms: number) => ms.toFixed(1);
    console.log(
      `| ${concurrency} | ${latencies.length} | ${f(percentile(latencies, 50))} | ${f(percentile(latencies, 99))} | ${f(percentile(latencies, 99.9))} | ${f(latencies.at(-1) ?? 0)} | ${((over / latencies.length) * 100).toFixed(1)} % |`,
    );
  }
} catch (error) {
  say(`bench:admission failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await stack.stop();
}
