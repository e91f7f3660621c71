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
 *                          [--stretches [MS]]
 *
 * `--steps` sets MAX_VALIDATION_STEPS for the run, to see what another default would give.
 * `--stretches` profiles workerd during each attack (its inspector, an unminified build) and prints
 * every stretch of synchronous work longer than MS (default 15) with the functions that took it
 * (scripts/bench/stretches.ts): the cause of a slow /health, which the isolate answers only between
 * two stretches. The profiler slows workerd by some 10-30%, and each yield is made to wait 1 ms so
 * that the profile shows it: compare stretches with stretches, and /health with unprofiled runs.
 * `--profile-dir DIR` (with --stretches) also writes each attack's profile there (.cpuprofile).
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalStack, startLocalStack } from "../test/support/local-stack";
import { freePort } from "../test/support/ports";
import { ATTACKS, probeToken, probeVars, runAttack } from "../test/support/security-probe";
import { buildWorkerBundle, startWorkerdServe } from "../test/support/workerd-serve";
import { startCpuProfile } from "./bench/profile";
import { findStretches, formatStretches, frameNamer, markYields } from "./bench/stretches";
import { parseArgs, say } from "./lib/access-cli";

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const only = flags.only ? new Set(flags.only.split(",")) : undefined;
  const capMs = Number(flags["cap-ms"] ?? 30_000);
  const attacks = ATTACKS.filter((attack) => !only || only.has(attack.name));
  const stretchMs =
    flags.stretches === undefined ? undefined : Number(flags.stretches === "true" ? 15 : flags.stretches);
  let stack: LocalStack | undefined;
  const bundleDir = await mkdtemp(join(tmpdir(), "schema-meter-probe-"));
  try {
    say("building the Worker and starting the local stack");
    // Profiled, the Worker is built unminified, so that frames map to src/ through the source map.
    await buildWorkerBundle(bundleDir, { minify: stretchMs === undefined });
    if (stretchMs !== undefined) markYields(bundleDir);
    const name = frameNamer(join(bundleDir, "index.js.map"));
    stack = await startLocalStack({ redis: "own" });
    const vars = probeVars(stack);
    if (flags.steps) vars.MAX_VALIDATION_STEPS = flags.steps;
    const rows: string[][] = [];
    for (const attack of attacks) {
      const inspectorPort = stretchMs === undefined ? undefined : await freePort();
      const worker = await startWorkerdServe({ vars, bundleDir, inspectorPort });
      try {
        const token = await probeToken(worker, stack);
        const profiler = inspectorPort === undefined ? undefined : await startCpuProfile(inspectorPort);
        const outcome = await runAttack(worker, token, attack, capMs);
        say(`${attack.name}: ${outcome.status} in ${outcome.ms.toFixed(0)} ms — ${outcome.detail}`);
        let longest: number | undefined;
        if (profiler && stretchMs !== undefined) {
          const profile = await profiler.stop();
          if (flags["profile-dir"]) {
            writeFileSync(join(flags["profile-dir"], `${attack.name}.cpuprofile`), JSON.stringify(profile));
          }
          const stretches = findStretches(profile, { minMs: stretchMs, name });
          longest = stretches[0]?.ms ?? 0;
          say(
            `${attack.name}: ${stretches.length} stretches over ${stretchMs} ms, longest ${longest.toFixed(1)} ms; slowest /health ${outcome.slowestHealthMs.toFixed(0)} ms`,
          );
          if (stretches.length) say(formatStretches(stretches));
        }
        rows.push([
          attack.name,
          String(outcome.status),
          outcome.ms.toFixed(0),
          (outcome.bytes / 1024).toFixed(0),
          `${outcome.rssBeforeMb.toFixed(0)} → ${outcome.peakMb.toFixed(0)}`,
          `${outcome.slowestHealthMs.toFixed(0)}${outcome.healthTimeouts ? ` (${outcome.healthTimeouts} timed out)` : ""}`,
          ...(longest === undefined ? [] : [longest ? longest.toFixed(0) : `< ${stretchMs}`]),
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
      ...(stretchMs === undefined ? [] : ["longest stretch ms (profiled)"]),
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
