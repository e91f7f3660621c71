/**
 * `npm run bench:window-memory`: Redis memory of one subject's rate window after it admitted a whole
 * window's worth of calls (default a 10,000-per-10-s tier and 10,000 calls costing 1 unit each, not
 * billable so no usage record), made through the admission script as the Worker makes them, 16 at
 * a time, stamped over 9 s of the script's clock. Prints `MEMORY USAGE` of each key of the subject's
 * window (the key and any `<key>:…` beside it), and Redis's own time per script run (INFO
 * commandstats: no network or client in it).
 *
 *   npm run bench:window-memory [-- --limit 10000 --calls 10000]
 */
import { createRedisAdapter } from "../../src/adapters/redis";
import { redisKeys } from "../../src/metering/scripts/keys";
import { startLocalStack } from "../../test/support/local-stack";
import { parseRedisUrl, plain, RespClient } from "../../test/support/resp";
import { parseArgs, say } from "../lib/access-cli";

const { flags } = parseArgs(process.argv.slice(2));
const limit = Number(flags.limit ?? 10_000);
const calls = Number(flags.calls ?? limit);

const stack = await startLocalStack({ redis: "own" });
try {
  const redis = createRedisAdapter({
    url: stack.vars.UPSTASH_REDIS_REST_URL as string,
    token: stack.vars.UPSTASH_REDIS_REST_TOKEN as string,
    timeoutMs: 5000,
  });
  const tiers = { bench: { limit, windowSeconds: 10 } };
  const subject = "window-memory-subject";
  const started = Date.now();
  let admitted = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < calls) {
        const n = next++;
        const reply = await redis.admitUsage({
          usageId: `u_${crypto.randomUUID().replaceAll("-", "")}`,
          requestId: `req_${n}`,
          subject,
          apiKeyId: null,
          stripeCustomerId: null,
          tier: "bench",
          units: 0,
          // Spread over 9 s of the clock the script is given, so all stay in one window however slow
          // the machine: each call at its own millisecond (the log's worst case, and the runs').
          nowMs: started + Math.floor((n * 9000) / calls),
          tiers,
        });
        if (reply.status === "admitted") admitted++;
      }
    }),
  );
  const elapsed = Date.now() - started;
  const window = redisKeys.rateWindow(subject);
  const raw = new RespClient(parseRedisUrl(stack.redis.url));
  const command = (...args: string[]) => raw.command(args);
  const keys = (plain(await command("KEYS", `${window}*`)) as string[]).sort();
  let total = 0;
  for (const key of keys) {
    const bytes = Number(plain(await command("MEMORY", "USAGE", key, "SAMPLES", "0")));
    total += bytes;
    console.log(`| ${key} | ${plain(await command("TYPE", key))} | ${bytes} B |`);
  }
  console.log(
    `${admitted} of ${calls} calls admitted (limit ${limit} per 10 s, ${elapsed} ms): ${total} B for the subject's window`,
  );
  // Redis's own time per admission script run (no network, no client): the script's work.
  const stats = String(plain(await command("INFO", "commandstats")));
  const evalsha = /cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(stats);
  if (evalsha) console.log(`admission script in Redis: ${evalsha[2]} µs per call (${evalsha[1]} calls)`);
  await raw.close();
} catch (error) {
  say(`bench:window-memory failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await stack.stop();
}
