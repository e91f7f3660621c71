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
 *   npm run probe:security [-- --only anyof-fanout,regex-dot-repeat] [--cap-ms 30000] [--steps N]
 *
 * `--steps` sets MAX_VALIDATION_STEPS for the run, to see what another default would give.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalStack, startLocalStack } from "../test/support/local-stack";
import { ATTACKS, probeToken, probeVars, runAttack } from "../test/support/security-probe";
import { buildWorkerBundle, startWorkerdServe } from "../test/support/workerd-serve";
import { parseArgs, say } from "./lib/access-cli";

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
    const vars = probeVars(stack);
    if (flags.steps) vars.MAX_VALIDATION_STEPS = flags.steps;
    const rows: string[][] = [];
    for (const attack of attacks) {
      const worker = await startWorkerdServe({ vars, bundleDir });
      try {
        const token = await probeToken(worker, stack);
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
