/**
 * `npm run probe:security`: the denial-of-service reproductions of the security review, sent over
 * HTTP to the built Worker under `workerd serve` (eval forbidden, as in production), one fresh
 * workerd per attack so each starts from the same memory. For each it prints the status, the wall
 * time (capped), the response size, workerd's resident memory before and at its peak (VmRSS and
 * VmHWM from /proc), and the slowest `GET /health` answered meanwhile (a probe every 50 ms).
 *
 * A measurement, not a test: it asserts nothing and exits 0 whatever it finds, so the same run
 * gives before and after figures for a fix. Figures depend on the machine; compare runs of one.
 *
 *   npm run probe:security [-- --only anyof-fanout,regex-dot-repeat] [--cap-ms 30000]
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalStack, startLocalStack } from "../test/support/local-stack";
import { buildWorkerBundle, startWorkerdServe, type WorkerdProcess } from "../test/support/workerd-serve";
import { obtainBenchToken } from "./bench/token";
import { parseArgs, say } from "./lib/access-cli";

const PROBE_TIER = "probe";
const RATE_LIMIT_TIERS = {
  free: { limit: 5, windowSeconds: 10 },
  [PROBE_TIER]: { limit: 1_000_000, windowSeconds: 10 },
};

interface Attack {
  name: string;
  /** What the review found, for the table. */
  finding: string;
  body: () => unknown;
}

const repeat = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

export const ATTACKS: Attack[] = [
  {
    name: "anyof-fanout",
    finding: "5,000 anyOf branches over 80,000 items: 43 s, 4% of the step budget",
    body: () => ({
      schema: { items: { anyOf: repeat(5000, (i) => ({ const: i })) } },
      data: repeat(80_000, () => -1),
    }),
  },
  {
    name: "regex-dot-repeat",
    finding: "unanchored `.{50000}x` on 100 kB: 12 s on the 'linear' native path",
    body: () => ({ schema: { type: "string", pattern: ".{50000}x" }, data: "a".repeat(100_000) }),
  },
  {
    name: "speculative-errors",
    finding: "errors inside anyOf/oneOf/not not counted: 47 kB raised workerd to 748 MB",
    body: () => ({
      schema: {
        items: {
          anyOf: repeat(40, () => ({ items: { type: "string" } })),
        },
      },
      data: repeat(100, () => repeat(100, () => 0)),
    }),
  },
  {
    name: "enrich-amplification",
    finding: "annotations repeated per instance location: 20 kB request, 50 MB response",
    body: () => ({
      schema: { items: { title: "t".repeat(10_000), description: "d".repeat(8_000) } },
      data: repeat(5000, () => 0),
      enrich: true,
    }),
  },
  {
    name: "idn-punycode",
    finding: "quadratic punycode in idn-hostname before the length check: 160 kB took 3.6 s",
    body: () => ({
      schema: { type: "string", format: "idn-hostname" },
      data: "ä".repeat(80_000),
      format_assertion: true,
    }),
  },
  {
    name: "idn-punycode-enrich",
    finding: "the same normalisation runs during enrichment even without format_assertion",
    body: () => ({
      schema: { type: "string", format: "idn-hostname" },
      data: `${"ä".repeat(80_000)}.example`,
      enrich: true,
    }),
  },
  {
    name: "regex-too-large",
    finding: "a 'safe' pattern V8 refuses at match time: 500 with the pattern in the log",
    body: () => ({ schema: { type: "string", pattern: "(?:a{1000}){1000}" }, data: "a" }),
  },
  {
    name: "enrich-proto-key",
    finding: "enrichment drops __proto__ keys from the returned document",
    body: () => JSON.parse('{"schema":{"type":"object"},"data":{"__proto__":{"x":1},"a":1},"enrich":true}'),
  },
];

function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

interface Outcome {
  status: number | string;
  ms: number;
  bytes: number;
  rssBeforeMb: number;
  peakMb: number;
  slowestHealthMs: number;
  healthTimeouts: number;
  detail: string;
}

async function runAttack(
  worker: WorkerdProcess,
  token: string,
  attack: Attack,
  capMs: number,
): Promise<Outcome> {
  const before = memoryKb(worker.pid);
  let peak = before.hwm;
  let slowestHealthMs = 0;
  let healthTimeouts = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, memoryKb(worker.pid).hwm);
      const started = performance.now();
      try {
        await (await fetch(`${worker.url}/health`, { signal: AbortSignal.timeout(1000) })).arrayBuffer();
      } catch {
        healthTimeouts++;
      }
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      await new Promise((done) => setTimeout(done, 50));
    }
  })();
  const body = JSON.stringify(attack.body());
  const started = performance.now();
  let status: number | string;
  let bytes = 0;
  let detail = "";
  try {
    const response = await fetch(`${worker.url}/v1/validate`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body,
      signal: AbortSignal.timeout(capMs),
    });
    status = response.status;
    const text = await response.text();
    bytes = text.length;
    detail = text.slice(0, 160).replace(/\s+/g, " ");
  } catch (error) {
    status = (error as Error).name === "TimeoutError" ? `>${capMs} ms` : "error";
    detail = (error as Error).message;
  }
  const ms = performance.now() - started;
  running = false;
  await sampler;
  peak = Math.max(peak, memoryKb(worker.pid).hwm);
  return {
    status,
    ms,
    bytes,
    rssBeforeMb: before.rss / 1024,
    peakMb: peak / 1024,
    slowestHealthMs,
    healthTimeouts,
    detail: `request ${(body.length / 1024).toFixed(0)} kB; ${detail}`,
  };
}

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const only = flags.only ? new Set(flags.only.split(",")) : undefined;
  const capMs = Number(flags["cap-ms"] ?? 30_000);
  const attacks = ATTACKS.filter((attack) => !only || only.has(attack.name));
  let stack: LocalStack | undefined;
  const bundleDir = await mkdtemp(join(tmpdir(), "schema-meter-probe-"));
  try {
    say("building the Worker and starting the local stack");
    await buildWorkerBundle(bundleDir);
    stack = await startLocalStack({ redis: "own" });
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(stack.vars)) if (value !== undefined) vars[name] = value;
    vars.RATE_LIMIT_TIERS = JSON.stringify(RATE_LIMIT_TIERS);
    vars.ADMISSION_TIMEOUT_MS = "1000";
    const rows: string[][] = [];
    for (const attack of attacks) {
      const worker = await startWorkerdServe({ vars, bundleDir });
      try {
        const { token } = await obtainBenchToken(worker.url, stack, PROBE_TIER, () => {});
        const outcome = await runAttack(worker, token, attack, capMs);
        say(`${attack.name}: ${outcome.status} in ${outcome.ms.toFixed(0)} ms — ${outcome.detail}`);
        rows.push([
          attack.name,
          String(outcome.status),
          outcome.ms.toFixed(0),
          (outcome.bytes / 1024).toFixed(0),
          `${outcome.rssBeforeMb.toFixed(0)} → ${outcome.peakMb.toFixed(0)}`,
          `${outcome.slowestHealthMs.toFixed(0)}${outcome.healthTimeouts ? ` (${outcome.healthTimeouts} timed out)` : ""}`,
          attack.finding,
        ]);
      } finally {
        await worker.stop();
      }
    }
    const header = [
      "attack",
      "status",
      "ms",
      "response kB",
      "workerd MB (rss → peak)",
      "slowest /health ms",
      "review found",
    ];
    console.log(`| ${header.join(" | ")} |\n|${header.map(() => " --- ").join("|")}|`);
    for (const row of rows) console.log(`| ${row.join(" | ")} |`);
    return 0;
  } finally {
    await stack?.stop();
    await rm(bundleDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`probe:security failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
