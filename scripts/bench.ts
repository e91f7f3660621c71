/**
 * `npm run bench`: throughput figures, not a test (nothing here asserts a target; it prints them).
 *
 * What is measured, in one run:
 *  1. HTTP, through the built Worker (the `wrangler deploy --dry-run` bundle, eval forbidden as in
 *     production) served by `workerd serve` and loaded with autocannon:
 *     - `GET /health`: the baseline, i.e. what workerd + Hono + our middleware cost with no work;
 *     - `POST /v1/validate` of the mid-size document (test/fixtures/bench/order.schema.json with
 *       order.valid.json inline), authenticated with a real bearer token on a tier whose rate limit
 *       cannot throttle the bench, so every call does the whole hot path: token verification,
 *       the one Redis admission round trip (real redis-server behind the Upstash-REST bridge), and
 *       validation. Printed: req/s, p50 and p99 latency, non-2xx count, the validate/health ratio
 *       (for reference: issue 22's targets are against the floor), the Redis requests per validate
 *       call counted at the bridge, and CPU time per request of workerd and of this process
 *       (bridges + load generator), from /proc and
 *       process.cpuUsage(): on a small shared machine they say where the time goes.
 *  2. The floor (unless --no-floor): a bare Worker (scripts/bench/floor-worker: no framework, no
 *     product code) in the same workerd build, loaded the same way: an empty response, reading and
 *     parsing the validate body, one Upstash REST call through the same bridge, and the last two
 *     together. What a validate call cannot avoid costing on this runtime, next to what ours costs.
 *  3. The peer (unless --no-peer): the same route assembled from standard parts (scripts/bench/peer-worker:
 *     Hono, hono/jwt EdDSA, @upstash/ratelimit slidingWindow, an awaited LPUSH, @cfworker/json-schema)
 *     with the same body and token: ours/peer throughput and CPU, Redis calls per request of each.
 *  4. Cold start (--cold-starts N, default 5; 0 skips): N fresh workerd processes per Worker (ours,
 *     the floor, the peer), interleaved, the first request of each timed (scripts/bench/cold-start.ts);
 *     and the bundle: the uploaded module's size and gzip size, and what a split build evaluates at
 *     startup (scripts/bench/bundle-size.ts).
 *  5. Engine only (scripts/bench-engine.ts, in a separate Node process once the HTTP load is over):
 *     validations/s of order.valid.json by our engine next to @hyperjump/json-schema and ajv
 *     (compiled with new Function, which Workers forbid: the ceiling to approach).
 *  6. Growth (scripts/bench-growth.ts, unless --no-growth): CPU per call against document size, schema
 *     size, batch size and error count, ours beside ajv and @cfworker; tables and a PNG chart written
 *     to bench-results/ (also `npm run bench:growth` alone).
 * Last, every issue 22 target the run measures, with its ratio and met / not met (scripts/bench/targets.ts).
 *
 * Why `workerd serve` and not `wrangler dev`: wrangler dev puts its own proxy in front of workerd,
 * which here costs about ten times what the Worker itself spends per request, so it would measure
 * the proxy. `workerd serve` with a generated config (test/support/workerd-serve.ts) is the same
 * runtime with nothing in front of it. The local bridges (Redis REST, PostgREST) are slower than
 * Upstash and Supabase are from Cloudflare's edge, so the route figure is a lower bound.
 *
 * Worker configuration: the local stack's, plus a `bench` tier of 100M requests per 10 s in
 * RATE_LIMIT_TIERS (the token's tier: a throttled bench measures 429s) and ADMISSION_TIMEOUT_MS at
 * its maximum (1000 ms), so an admission slowed by the loaded machine still takes the Redis path
 * rather than the fail-open one (timed-out admissions are counted and reported).
 *
 * A bench that measures refusals is worthless: any non-2xx or connection error during the load, or a
 * validate route that does not answer 200, makes the run fail loudly (exit 1) after printing.
 *
 * Usage: npm run bench -- [--duration 10] [--connections 32] [--warmup 2] [--workers 1]
 *                         [--engine-ms 2000] [--no-engine] [--no-floor] [--no-peer] [--no-growth]
 *                         [--cold-starts 5] [--baseline-bundle DIR] [--profile FILE]
 * --baseline-bundle DIR: a bundle built elsewhere (`wrangler deploy --dry-run --outdir DIR` in a checkout
 *                 of an earlier commit) cold-started beside ours, interleaved: before/after in one run.
 * --profile FILE: a workerd CPU profile (.cpuprofile) of the POST /v1/validate load, and its top
 *                 self-time functions (the profiler slows workerd: such figures compare only with
 *                 other profiled runs). The profiled Worker is built unminified, to name functions.
 * Bench data: test/fixtures/bench (JSON_SCHEMA_BENCH_DIR overrides).
 * Everything started here (redis-server, bridges, fake Stripe, workerd, a test database) is stopped
 * at the end and on Ctrl-C.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { BENCH_DIR } from "../test/support/fixtures";
import { type LocalStack, startLocalStack } from "../test/support/local-stack";
import { freePort } from "../test/support/ports";
import { buildWorkerBundle, startWorkerdServe, type WorkerdProcess } from "../test/support/workerd-serve";
import { type BundleFigures, kib, measureBundle } from "./bench/bundle-size";
import { type ColdStartFigures, measureColdStarts } from "./bench/cold-start";
import { type EngineFigures, runEngineBench } from "./bench/engine";
import { FLOOR_ROUTES, FLOOR_WORKER_DIR, floorVars } from "./bench/floor";
import { runGrowthBench } from "./bench/growth-run";
import { type LoadFigures, runLoad } from "./bench/load";
import { buildPeerWorker, peerVars } from "./bench/peer";
import { startCpuProfile, topSelfTime } from "./bench/profile";
import { BENCH_TIER, benchWorkerVars, loadBenchData, processCpuMs } from "./bench/setup";
import { printTargets } from "./bench/targets";
import { obtainBenchToken } from "./bench/token";

// ---- arguments -------------------------------------------------------------------------------
function option(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let value: string | undefined;
    if (arg === `--${name}`) value = argv[i + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    else continue;
    const number = Number(value);
    if (!Number.isFinite(number) || number < 0) throw new Error(`--${name} needs a number, got ${value}`);
    return number;
  }
  return fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
/** The value after `--name` (or in `--name=value`), if given. */
function stringOption(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

const duration = option("duration", 10);
const connections = Math.max(1, Math.round(option("connections", 32)));
const warmup = option("warmup", 2);
const workers = Math.round(option("workers", 1));
const engineMs = option("engine-ms", 2000);
const skipEngine = flag("no-engine");
const skipFloor = flag("no-floor");
const skipPeer = flag("no-peer");
const skipGrowth = flag("no-growth");
const coldStarts = Math.round(option("cold-starts", 5));
/** A built bundle folder (e.g. of an earlier commit) cold-started beside ours: a before/after in one run. */
const baselineBundle = stringOption("baseline-bundle");
const profilePath = stringOption("profile");

const benchDir = BENCH_DIR;

// ---- output helpers --------------------------------------------------------------------------
const say = (line: string) => console.log(`[bench] ${line}`);
const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const perSecond = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : fixed(n));
const statusList = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([code, count]) => `${code}×${count}`)
    .join(", ");

interface RouteResult {
  route: string;
  load?: LoadFigures;
  /** Why the route was not loaded. */
  skipped?: string;
  redisPerCall?: number;
  /** CPU time of the workerd process per completed request, µs (Linux /proc only). */
  workerdCpuUs?: number;
  /** CPU time of this process (bridges + autocannon thread) per completed request, µs. */
  harnessCpuUs?: number;
}

/** utime + stime of a process in ms, from /proc/<pid>/stat; undefined off Linux. */
const selfCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

// ---- the run ---------------------------------------------------------------------------------
const abort = new AbortController();
let stack: LocalStack | undefined;
let worker: WorkerdProcess | undefined;
let floorWorker: WorkerdProcess | undefined;
let peerWorker: WorkerdProcess | undefined;
/** Temp folders of the built bundles (ours, the peer's), removed at the end. */
const buildDirs: string[] = [];

const SCHEMA_ID_ROUTE = "POST /v1/validate (schema_id)";
const PEER_ROUTE = "peer: POST /v1/validate";

async function stopWorker(which: "worker" | "floor" | "peer"): Promise<void> {
  const running = which === "worker" ? worker : which === "floor" ? floorWorker : peerWorker;
  if (which === "worker") worker = undefined;
  else if (which === "floor") floorWorker = undefined;
  else peerWorker = undefined;
  await running?.stop().catch((error) => say(`stopping workerd failed: ${String(error)}`));
}

let stopping: Promise<void> | undefined;
function stopServices(): Promise<void> {
  stopping ??= (async () => {
    await stopWorker("worker");
    await stopWorker("floor");
    await stopWorker("peer");
    for (const dir of buildDirs.splice(0)) await rm(dir, { recursive: true, force: true });
    const s = stack;
    stack = undefined;
    await s?.stop().catch((error) => say(`stopping the local stack failed: ${String(error)}`));
  })();
  return stopping;
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping everything`);
    abort.abort();
    void stopServices().finally(() => process.exit(130));
  });
}

async function pendingUsageRows(databaseUrl: string): Promise<number | undefined> {
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    await db.connect();
    const { rows } = await db.query<{ n: string }>("select count(*) as n from public.pending_usage");
    return Number(rows[0]?.n ?? 0);
  } catch {
    return undefined;
  } finally {
    await db.end().catch(() => {});
  }
}

/**
 * What the floor rows say about the product rows: the best ratio any Worker doing one body parse
 * and one Redis REST call reaches against an empty response here, and the CPU our code adds on top
 * of the runtime's part of each route.
 */
function printFloorSummary(results: RouteResult[]): void {
  const row = (route: string) => results.find((r) => r.route === route);
  const [empty, parseRedis] = [row("floor: GET /empty"), row("floor: POST /parse-redis")];
  if (!empty?.load || !parseRedis?.load) return;
  console.log(
    `floor parse-redis/empty throughput ratio: ${(parseRedis.load.requestsPerSecond / empty.load.requestsPerSecond).toFixed(2)} ` +
      "(a bare Worker that only parses the body and makes one Redis REST call, against one that answers at once)",
  );
  const over = (ours: RouteResult | undefined, floor: RouteResult) =>
    ours?.workerdCpuUs !== undefined && floor.workerdCpuUs !== undefined
      ? `${fixed(ours.workerdCpuUs - floor.workerdCpuUs)} µs`
      : "n/a";
  console.log(
    `workerd CPU our code adds per request: GET /health ${over(row("GET /health"), empty)} over floor /empty; ` +
      `POST /v1/validate ${over(row("POST /v1/validate"), parseRedis)} over floor /parse-redis`,
  );
  const parseAdmit = row("floor: POST /parse-admit");
  if (parseAdmit)
    console.log(
      `floor /parse-admit (our admission script's own call, no product code) over /parse-redis: ${over(parseAdmit, parseRedis)}; ` +
        `POST /v1/validate over /parse-admit: ${over(row("POST /v1/validate"), parseAdmit)} (the product's code alone)`,
    );
}

/** Ours against the peer (the same route from standard parts): throughput, CPU and Redis calls. */
function printPeerSummary(results: RouteResult[]): void {
  const ours = results.find((r) => r.route === "POST /v1/validate");
  const peer = results.find((r) => r.route === PEER_ROUTE);
  if (!ours?.load || !peer?.load) return;
  const cpu =
    ours.workerdCpuUs !== undefined && peer.workerdCpuUs !== undefined
      ? `; workerd CPU ${fixed(ours.workerdCpuUs)} vs ${fixed(peer.workerdCpuUs)} µs/request (peer/ours ${(peer.workerdCpuUs / ours.workerdCpuUs).toFixed(2)})`
      : "";
  console.log(
    `ours/peer throughput ratio: ${(ours.load.requestsPerSecond / peer.load.requestsPerSecond).toFixed(2)} ` +
      `(${fixed(ours.load.requestsPerSecond)} vs ${fixed(peer.load.requestsPerSecond)} req/s${cpu}; ` +
      `Redis calls per request: ours ${fixed(ours.redisPerCall ?? 0, 2)}, peer ${fixed(peer.redisPerCall ?? 0, 2)})`,
  );
}

const settle = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function main(): Promise<number> {
  const started = performance.now();
  const problems: string[] = [];
  const data = loadBenchData();
  const validateBody = JSON.stringify({ schema: data.schema, data: data.valid });

  say(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}, Node ${process.version}`,
  );
  say(
    `load: ${connections} connections, ${duration} s per route (+${warmup} s warm-up), autocannon workers ${workers}`,
  );
  say("starting the local stack (redis-server + REST bridge, Postgres + PostgREST bridge, fake Stripe)");
  stack = await startLocalStack({ redis: "own", log: (line) => say(line) });
  const vars = benchWorkerVars(stack);

  say("building the Worker (wrangler deploy --dry-run) and serving it with workerd serve");
  const buildDir = await mkdtemp(join(tmpdir(), "schema-meter-bench-"));
  buildDirs.push(buildDir);
  const bundleDir = join(buildDir, "worker");
  // A profiled run builds unminified, so that the profile names functions and lines.
  await buildWorkerBundle(bundleDir, { minify: !profilePath });
  let bundle: BundleFigures | undefined;
  try {
    bundle = await measureBundle(bundleDir);
  } catch (error) {
    say(`warning: bundle sizes not measured: ${(error as Error).message}`);
  }
  const inspectorPort = profilePath ? await freePort() : undefined;
  worker = await startWorkerdServe({ vars, inspectorPort, bundleDir });
  say(
    `workerd: ${worker.url} (compatibility date ${worker.compatibilityDate}; modules ${worker.modules.join(", ")})`,
  );
  if (abort.signal.aborted) return 130;

  const bench = await obtainBenchToken(worker.url, stack, BENCH_TIER, say);
  say(`token: tier ${bench.tier}, subject ${bench.subject}, via ${bench.via}`);

  const validateRequest = {
    url: `${worker.url}/v1/validate`,
    method: "POST" as const,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${bench.token}` },
    body: validateBody,
  };

  // One call first: a route that answers anything but 200 is reported, not loaded.
  const probe = await fetch(validateRequest.url, {
    method: "POST",
    headers: validateRequest.headers,
    body: validateRequest.body,
  });
  const probeText = await probe.text();
  let validateSkip: string | undefined;
  if (probe.status !== 200) {
    validateSkip = `POST /v1/validate answered ${probe.status}: ${probeText.slice(0, 300)}`;
    problems.push(validateSkip);
    say(`!! ${validateSkip}`);
  } else {
    let verdict: unknown;
    try {
      verdict = (JSON.parse(probeText) as { valid?: unknown }).valid;
    } catch {
      verdict = "(body is not JSON)";
    }
    if (verdict !== true)
      say(`warning: POST /v1/validate says valid=${String(verdict)} for order.valid.json`);
    say(`probe: POST /v1/validate → 200, valid=${String(verdict)}, ${probeText.length} bytes`);
  }

  const results: RouteResult[] = [];
  const measure = async (
    route: string,
    request: { url: string; method: "GET" | "POST"; headers?: Record<string, string>; body?: string },
    target: WorkerdProcess = worker!,
  ): Promise<RouteResult> => {
    const [s, w] = [stack!, target];
    const base = { ...request, connections, workers, signal: abort.signal };
    if (warmup > 0) await runLoad({ ...base, duration: warmup });
    await settle(300);
    const redisBefore = s.redisBridge.requestCount();
    const workerdBefore = processCpuMs(w.pid);
    const selfBefore = selfCpuMs();
    const load = await runLoad({ ...base, duration });
    const workerdAfter = processCpuMs(w.pid);
    const selfAfter = selfCpuMs();
    await settle(500); // waitUntil work (usage settlement) lands at the bridge after the responses
    const redisCalls = s.redisBridge.requestCount() - redisBefore;
    const perRequestUs = (ms: number) => (load.requests > 0 ? (ms * 1000) / load.requests : Number.NaN);
    const result: RouteResult = {
      route,
      load,
      redisPerCall: load.requests > 0 ? redisCalls / load.requests : 0,
      workerdCpuUs:
        workerdBefore !== undefined && workerdAfter !== undefined
          ? perRequestUs(workerdAfter - workerdBefore)
          : undefined,
      harnessCpuUs: perRequestUs(selfAfter - selfBefore),
    };
    say(
      `${route}: ${fixed(load.requestsPerSecond)} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, ` +
        `status ${statusList(load.statusCounts) || "none"}, errors ${load.errors}`,
    );
    if (load.non2xx > 0 || load.errors > 0 || load.requests === 0) {
      problems.push(
        `${route}: ${load.non2xx} non-2xx (${statusList(load.statusCounts)}) and ${load.errors} errors/timeouts ` +
          `out of ${load.requests}: these figures measure refusals, not the route`,
      );
    }
    return result;
  };

  say(`loading GET /health for ${duration} s`);
  results.push(await measure("GET /health", { url: `${worker.url}/health`, method: "GET" }));
  if (abort.signal.aborted) return 130;
  if (validateSkip) {
    results.push({ route: "POST /v1/validate", skipped: `answered ${probe.status}` });
  } else {
    say(`loading POST /v1/validate for ${duration} s`);
    if (profilePath && inspectorPort !== undefined) {
      const profiler = await startCpuProfile(inspectorPort);
      results.push(await measure("POST /v1/validate", validateRequest));
      const profile = await profiler.stop();
      writeFileSync(profilePath, JSON.stringify(profile));
      say(`CPU profile of workerd during POST /v1/validate written to ${profilePath}; most self time:`);
      for (const { share, name } of topSelfTime(profile, 15)) say(`  ${(share * 100).toFixed(1)}%  ${name}`);
    } else {
      results.push(await measure("POST /v1/validate", validateRequest));
    }
  }
  if (abort.signal.aborted) return 130;

  // The same document by a registered schema (schema_id): published once, then compiled once per
  // isolate and found by its pointer, where inline calls hash and look up the whole schema.
  if (!validateSkip) {
    const published = await fetch(`${worker.url}/v1/schemas/bench-order`, {
      method: "PUT",
      headers: validateRequest.headers,
      body: JSON.stringify(data.schema),
    });
    if (published.status !== 201 && published.status !== 200) {
      const why = `PUT /v1/schemas/bench-order answered ${published.status}: ${(await published.text()).slice(0, 300)}`;
      problems.push(why);
      say(`!! ${why}`);
    } else {
      say(`loading ${SCHEMA_ID_ROUTE} for ${duration} s`);
      results.push(
        await measure(SCHEMA_ID_ROUTE, {
          ...validateRequest,
          body: JSON.stringify({ schema_id: "bench-order", data: data.valid }),
        }),
      );
    }
  }
  if (abort.signal.aborted) return 130;

  // Admissions that timed out (ADMISSION_TIMEOUT_MS) were served fail-open and their usage written
  // to Postgres: still 200s, but not the path being measured. A few are a symptom of an overloaded
  // machine; many would make the figure meaningless.
  const pending = await pendingUsageRows(stack.databaseUrl);
  const degraded = (worker.output().match(/admission without redis/g) ?? []).length;
  const validateRequests = results.find((r) => r.route === "POST /v1/validate")?.load?.requests ?? 0;
  if (degraded > 0 || (pending ?? 0) > 0) {
    const line =
      `${degraded} admissions timed out waiting for Redis (ADMISSION_TIMEOUT_MS) and were served fail-open; ` +
      `${pending ?? "?"} usage records went to Postgres`;
    if (degraded > Math.max(10, validateRequests * 0.01)) problems.push(`${line}: more than 1% of the calls`);
    else say(`note: ${line}`);
  }

  if (!skipFloor) {
    // One workerd at a time: the product's stops before the floor's starts, so neither competes.
    await stopWorker("worker");
    say(`serving the floor Worker (${FLOOR_WORKER_DIR}) with the same workerd`);
    floorWorker = await startWorkerdServe({ vars: floorVars(stack), bundleDir: FLOOR_WORKER_DIR });
    for (const { route, method, path, body } of FLOOR_ROUTES) {
      if (abort.signal.aborted) return 130;
      say(`loading ${route} for ${duration} s`);
      const url = `${floorWorker.url}${path}`;
      const request = body
        ? { url, method, headers: validateRequest.headers, body: validateBody }
        : { url, method };
      results.push(await measure(route, request, floorWorker));
    }
    await stopWorker("floor");
  }

  // The peer: the same route assembled from standard parts (scripts/bench/peer-worker), same body
  // and token, same workerd and Redis bridge.
  const peerDir = join(buildDir, "peer");
  let peerBuilt = false;
  if (!skipPeer && !abort.signal.aborted) {
    await buildPeerWorker(peerDir);
    peerBuilt = true;
    say(
      "serving the peer Worker (Hono + hono/jwt + @upstash/ratelimit + @upstash/redis + @cfworker/json-schema)",
    );
    peerWorker = await startWorkerdServe({ vars: peerVars(stack), bundleDir: peerDir });
    const peerRequest = { ...validateRequest, url: `${peerWorker.url}/v1/validate` };
    const peerProbe = await fetch(peerRequest.url, {
      method: "POST",
      headers: peerRequest.headers,
      body: peerRequest.body,
    });
    const peerText = await peerProbe.text();
    if (peerProbe.status !== 200) {
      const why = `peer POST /v1/validate answered ${peerProbe.status}: ${peerText.slice(0, 300)}`;
      problems.push(why);
      say(`!! ${why}`);
    } else {
      say(`probe: peer POST /v1/validate → 200, ${peerText.slice(0, 80)}`);
      say(`loading peer: POST /v1/validate for ${duration} s`);
      results.push(await measure(PEER_ROUTE, peerRequest, peerWorker));
    }
    await stopWorker("peer");
  }

  // Cold start: fresh workerd processes, the first request of each timed (interleaved samples).
  let coldStart: ColdStartFigures[] = [];
  if (coldStarts > 0 && !abort.signal.aborted && !validateSkip) {
    say(`cold start: ${coldStarts} fresh workerd processes per Worker, first request timed`);
    const post = (path: string) => (base: string) => ({
      url: `${base}${path}`,
      init: { method: "POST", headers: validateRequest.headers, body: validateBody },
    });
    try {
      coldStart = await measureColdStarts(
        [
          { name: "ours: POST /v1/validate", bundleDir, vars, request: post("/v1/validate") },
          ...(baselineBundle
            ? [
                {
                  name: "baseline: POST /v1/validate",
                  bundleDir: resolve(baselineBundle),
                  vars,
                  request: post("/v1/validate"),
                },
              ]
            : []),
          {
            name: "floor: POST /parse-redis",
            bundleDir: FLOOR_WORKER_DIR,
            vars: floorVars(stack),
            request: post("/parse-redis"),
          },
          ...(peerBuilt
            ? [
                {
                  name: "peer: POST /v1/validate",
                  bundleDir: peerDir,
                  vars: peerVars(stack),
                  request: post("/v1/validate"),
                },
              ]
            : []),
        ],
        coldStarts,
        abort.signal,
      );
    } catch (error) {
      problems.push(`cold start: ${(error as Error).message}`);
    }
    for (const figures of coldStart) {
      if (figures.statuses.some((status) => status !== 200)) {
        problems.push(
          `cold start ${figures.name}: first responses ${figures.statuses.join(", ")} (not all 200)`,
        );
      }
    }
  }
  await stopServices();
  say("local stack and workerd stopped");

  // ---- HTTP table ----
  const health = results.find((r) => r.route === "GET /health")?.load;
  const validate = results.find((r) => r.route === "POST /v1/validate")?.load;
  console.log("");
  console.log(
    `HTTP through workerd serve: ${connections} connections, ${duration} s each, ${cpus().length} cores, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    "| route | req/s | p50 ms | p99 ms | non-2xx | errors | Redis req/call | workerd CPU µs/req | harness CPU µs/req |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    if (!r.load) {
      console.log(`| ${r.route} | not measured: ${r.skipped} | | | | | | | |`);
      continue;
    }
    const l = r.load;
    console.log(
      `| ${r.route} | ${fixed(l.requestsPerSecond)} | ${l.p50Ms} | ${l.p99Ms} | ${l.non2xx}` +
        `${l.non2xx ? ` (${statusList(l.statusCounts)})` : ""} | ${l.errors} | ${fixed(r.redisPerCall ?? 0, 2)} ` +
        `| ${r.workerdCpuUs === undefined ? "n/a" : fixed(r.workerdCpuUs)} | ${fixed(r.harnessCpuUs ?? Number.NaN)} |`,
    );
  }
  console.log(
    "(workerd CPU: the Worker's runtime process; harness CPU: this process, i.e. the Redis/PostgREST bridges and autocannon's thread)",
  );
  if (health && validate) {
    // Issue 22 replaced this target (the floor itself is a fraction of an empty response) by the
    // ratios to the floor printed with the targets below.
    const ratio = validate.requestsPerSecond / health.requestsPerSecond;
    console.log(
      `validate/health throughput ratio: ${ratio.toFixed(2)} (for reference; the targets are against the floor)`,
    );
  } else {
    console.log("validate/health throughput ratio: n/a (POST /v1/validate was not measured)");
  }
  const byId = results.find((r) => r.route === SCHEMA_ID_ROUTE)?.load;
  if (byId && validate) {
    console.log(
      `validate by schema_id / inline throughput ratio: ${(byId.requestsPerSecond / validate.requestsPerSecond).toFixed(2)} (target ≥ 1.0)`,
    );
  }
  printFloorSummary(results);
  printPeerSummary(results);
  if (profilePath) {
    console.log(
      "(profiled run: the profiler slows workerd; compare these figures only with other profiled runs)",
    );
  }
  console.log(`Postgres fallback records during the run: ${pending ?? "unknown"}`);

  // ---- engine ----
  let engine: EngineFigures | undefined;
  if (!skipEngine && !abort.signal.aborted) {
    console.log("");
    say(`engine-only bench (scripts/bench-engine.ts --ms=${engineMs}) in a separate process`);
    try {
      engine = await runEngineBench({ benchDir, ms: engineMs, signal: abort.signal });
      console.log(engine.output.trimEnd());
      const { ours, hyperjump, ajv } = engine;
      if (ours && hyperjump && ajv) {
        console.log(
          `order.valid.json, validations/s: ${ours.name} ${perSecond(ours.valid)}; ` +
            `${hyperjump.name} ${perSecond(hyperjump.valid)} (ours/hyperjump ${(ours.valid / hyperjump.valid).toFixed(2)}, target > 1); ` +
            `${ajv.name} ${perSecond(ajv.valid)} (ours/ajv ${(ours.valid / ajv.valid).toFixed(2)})`,
        );
      } else {
        say("warning: could not find our engine, @hyperjump and ajv rows in bench-engine's table");
      }
    } catch (error) {
      if (!abort.signal.aborted) problems.push(`engine bench failed: ${(error as Error).message}`);
    }
  }
  if (abort.signal.aborted) return 130;

  // ---- cold start: bundle and first request ----
  console.log("");
  if (bundle) {
    console.log(
      `Bundle: uploaded module index.js ${kib(bundle.mainBytes)} (${kib(bundle.mainGzipBytes)} gzip -9); ` +
        "wrangler does not split dynamic imports out, so the SDKs behind import() are in it, parsed but not evaluated at startup",
    );
    console.log(
      `Code evaluated at startup (the same entry built with esbuild splitting, static imports only): ${kib(bundle.eagerBytes)} ` +
        `(${kib(bundle.eagerGzipBytes)} gzip); lazily imported: ${kib(bundle.splitTotalBytes - bundle.eagerBytes)}`,
    );
    const list = (rows: Array<[string, number]>) =>
      rows.map(([name, bytes]) => `${name} ${kib(bytes)}`).join(", ");
    console.log(`  heaviest at startup: ${list(bundle.eagerPackages)}`);
    console.log(`  heaviest imported on first use: ${list(bundle.lazyPackages)}`);
  }
  if (coldStart.length > 0) {
    console.log(
      `Cold start: fresh workerd process per sample, median of ${coldStart[0]?.samples ?? 0} (interleaved); load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(" ")}`,
    );
    console.log(
      "| Worker, first request | spawn → first response ms | first request ms | ratio to floor (spawn→response) |",
    );
    console.log("|---|---:|---:|---:|");
    const floorCold = coldStart.find((c) => c.name.startsWith("floor"));
    for (const c of coldStart) {
      console.log(
        `| ${c.name} | ${fixed(c.spawnToResponseMs, 1)} | ${fixed(c.firstRequestMs, 1)} | ${floorCold ? fixed(c.spawnToResponseMs / floorCold.spawnToResponseMs, 2) : "n/a"} |`,
      );
    }
  }

  // ---- growth ----
  let growth: { chart?: string; skipped?: string } = { skipped: "--no-growth" };
  if (!skipGrowth && !abort.signal.aborted) {
    console.log("");
    say("growth bench (scripts/bench-growth.ts) in a separate process");
    try {
      const output = await runGrowthBench({ args: [], signal: abort.signal });
      console.log(output.trimEnd());
      growth = { chart: "bench-results/growth.png (tables in bench-results/growth.md)" };
    } catch (error) {
      if (!abort.signal.aborted) problems.push(`growth bench failed: ${(error as Error).message}`);
      growth = { skipped: "failed" };
    }
  }
  if (abort.signal.aborted) return 130;

  console.log("");
  printTargets({
    routes: results,
    bundle,
    coldStart,
    engineRows: engine?.rows ?? [],
    builds: engine?.builds,
    growth,
  });

  console.log("");
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (problems.length > 0) {
    console.error("");
    console.error("BENCH FAILED: these figures cannot be trusted as they stand:");
    for (const problem of problems) console.error(`  - ${problem}`);
    return 1;
  }
  return 0;
}

main()
  .then(async (code) => {
    await stopServices();
    if (!interrupted) process.exit(code);
  })
  .catch(async (error) => {
    if (interrupted) return; // the signal handler stops everything and exits
    console.error(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    await stopServices();
    if (!interrupted) process.exit(1);
  });
