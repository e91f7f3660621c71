/**
 * `npm run bench:ab -- DIR [DIR ...]`: the validate route of several Worker bundles, loaded in
 * turn in interleaved rounds on one local stack, with the floor's `parse-redis` in every round: what
 * a change to the hot path buys, measured in one run (the machine's state moves between runs far
 * more than most changes do). Each DIR is a `wrangler deploy --dry-run --outdir DIR` of some
 * checkout; `--here` adds the current tree, built now. `DIR::/path` loads that route of DIR's Worker
 * instead (with the validate body and the bench token), e.g. a variant of the floor Worker;
 * `DIR::GET /path` a GET of it; `scripts/bench/floor-worker::/parse-admit` adds the floor doing our
 * admission call.
 *
 * Printed per bundle: the median over rounds of req/s, workerd CPU µs per request and the ratio of
 * its throughput to the floor's in the same round. Nothing is asserted.
 *
 * Usage: npm run bench:ab -- [--here] [--rounds 5] [--duration 5] [--connections 32] DIR ...
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type LocalStack, startLocalStack } from "../../test/support/local-stack";
import { buildWorkerBundle, startWorkerdServe, type WorkerdProcess } from "../../test/support/workerd-serve";
import { FLOOR_WORKER_DIR, floorVars } from "./floor";
import { runLoad } from "./load";
import { BENCH_TIER, benchWorkerVars, loadBenchData, median, processCpuMs } from "./setup";
import { obtainBenchToken } from "./token";

const argv = process.argv.slice(2);
const numberOption = (name: string, fallback: number) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const rounds = numberOption("rounds", 5);
const duration = numberOption("duration", 5);
const connections = numberOption("connections", 32);
const dirs: string[] = argv.filter(
  (arg, i) => !arg.startsWith("--") && !argv[i - 1]?.match(/^--(rounds|duration|connections)$/),
);
const say = (line: string) => console.log(`[ab] ${line}`);

interface Subject {
  name: string;
  worker: WorkerdProcess;
  path: string;
  method?: "GET";
  rps: number[];
  cpuUs: number[];
  ratio: number[];
}

async function main(): Promise<void> {
  const cleanup: string[] = [];
  let stack: LocalStack | undefined;
  const workers: WorkerdProcess[] = [];
  try {
    if (argv.includes("--here")) {
      const dir = await mkdtemp(join(tmpdir(), "schema-meter-ab-"));
      cleanup.push(dir);
      say("building the current tree");
      await buildWorkerBundle(dir);
      dirs.unshift(dir);
    }
    if (dirs.length === 0) throw new Error("name at least one bundle directory, or --here");
    stack = await startLocalStack({ redis: "own", log: say });
    const vars = benchWorkerVars(stack);
    const data = loadBenchData();
    const body = JSON.stringify({ schema: data.schema, data: data.valid });
    const subjects: Subject[] = [];
    for (const arg of dirs) {
      const [dir, route = "/v1/validate"] = arg.split("::") as [string, string?];
      const [path, method] = route.startsWith("GET ") ? [route.slice(4), "GET" as const] : [route, undefined];
      const isFloor = resolve(dir) === FLOOR_WORKER_DIR;
      const worker = await startWorkerdServe({ vars: isFloor ? floorVars(stack) : vars, bundleDir: dir });
      workers.push(worker);
      const name = `${
        dir
          .replace(/\/bundle\/?$/, "")
          .split("/")
          .pop() ?? dir
      }${route === "/v1/validate" ? "" : ` ${route}`}`;
      subjects.push({ name, worker, path, method, rps: [], cpuUs: [], ratio: [] });
    }
    const floor = await startWorkerdServe({ vars: floorVars(stack), bundleDir: FLOOR_WORKER_DIR });
    workers.push(floor);
    const token = (await obtainBenchToken(subjects[0]!.worker.url, stack, BENCH_TIER, say)).token;
    const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
    const requestOf = (subject: Subject) =>
      subject.method === "GET"
        ? { url: subject.worker.url + subject.path, method: "GET" as const, headers }
        : { url: subject.worker.url + subject.path, method: "POST" as const, headers, body };
    const floorSubject: Subject = {
      name: "floor parse-redis",
      worker: floor,
      path: "/parse-redis",
      rps: [],
      cpuUs: [],
      ratio: [],
    };
    const all = [floorSubject, ...subjects];
    for (const subject of all) {
      await runLoad({ ...requestOf(subject), connections, duration: 2, workers: 1 });
    }
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round, so no bundle always runs right after the same neighbour.
      const order = all.map((_, i) => all[(i + round) % all.length]!);
      const rpsThisRound = new Map<Subject, number>();
      for (const subject of order) {
        const before = processCpuMs(subject.worker.pid);
        const load = await runLoad({ ...requestOf(subject), connections, duration, workers: 1 });
        const after = processCpuMs(subject.worker.pid);
        if (load.non2xx > 0 || load.errors > 0)
          throw new Error(`${subject.name}: ${load.non2xx} non-2xx, ${load.errors} errors`);
        subject.rps.push(load.requestsPerSecond);
        if (before !== undefined && after !== undefined)
          subject.cpuUs.push(((after - before) * 1000) / load.requests);
        rpsThisRound.set(subject, load.requestsPerSecond);
        await new Promise((done) => setTimeout(done, 300));
      }
      for (const subject of subjects)
        subject.ratio.push(rpsThisRound.get(subject)! / rpsThisRound.get(floorSubject)!);
      say(
        `round ${round + 1}/${rounds}: ${all.map((s) => `${s.name.split("/").pop()} ${s.rps.at(-1)!.toFixed(0)} req/s ${s.cpuUs.at(-1)?.toFixed(0)} µs`).join("; ")}`,
      );
    }
    console.log(
      `\nmedians over ${rounds} rounds of ${duration} s, ${connections} connections, load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(" ")}`,
    );
    console.log("| bundle | req/s | workerd CPU µs/req | over floor µs | ratio to floor req/s |");
    console.log("|---|---:|---:|---:|---:|");
    const floorCpu = median(floorSubject.cpuUs);
    console.log(
      `| floor parse-redis | ${median(floorSubject.rps).toFixed(0)} | ${floorCpu.toFixed(0)} | 0 | 1.00 |`,
    );
    for (const s of subjects) {
      console.log(
        `| ${s.name} | ${median(s.rps).toFixed(0)} | ${median(s.cpuUs).toFixed(0)} | ${(median(s.cpuUs) - floorCpu).toFixed(0)} | ${median(s.ratio).toFixed(2)} |`,
      );
    }
  } finally {
    for (const worker of workers) await worker.stop();
    await stack?.stop();
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  }
}

await main();
