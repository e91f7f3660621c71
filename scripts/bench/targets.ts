/**
 * The targets of issue 22 that `npm run bench` measures, each with its measured ratio and met / not
 * met, printed at the end of the run. All ratios come from figures of the same run.
 */
import type { BundleFigures } from "./bundle-size";
import type { ColdStartFigures } from "./cold-start";
import type { BuildRates, EngineRow } from "./engine";
import type { LoadFigures } from "./load";

export interface RouteFigures {
  route: string;
  load?: LoadFigures;
  redisPerCall?: number;
  workerdCpuUs?: number;
}

export interface TargetInputs {
  routes: RouteFigures[];
  bundle?: BundleFigures;
  coldStart: ColdStartFigures[];
  engineRows: EngineRow[];
  /** Build + first validation of a fresh bench schema, ours and @cfworker/json-schema's. */
  builds?: BuildRates;
  /** Where the growth chart was written, or why not. */
  growth: { chart?: string; skipped?: string };
}

export const BUNDLE_TARGET_BYTES = 350 * 1024;

interface TargetLine {
  item: string;
  target: string;
  measured: string;
  /** undefined: not measured in this run. */
  met?: boolean;
}

const ratio = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
/** A ratio with its unit, or "n/a" alone. */
const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "n/a");

export function evaluateTargets(input: TargetInputs): TargetLine[] {
  const route = (name: string) => input.routes.find((r) => r.route === name);
  const ours = route("POST /v1/validate");
  const floor = route("floor: POST /parse-redis");
  const peer = route("peer: POST /v1/validate");
  const lines: TargetLine[] = [];
  const both = ours?.load && floor?.load;

  const throughput = both
    ? (ours.load as LoadFigures).requestsPerSecond / (floor.load as LoadFigures).requestsPerSecond
    : Number.NaN;
  lines.push({
    item: "1 hot path",
    target: "validate ≥ 0.8 of floor parse-redis req/s",
    measured: ratio(throughput),
    met: both ? throughput >= 0.8 : undefined,
  });
  const over =
    ours?.workerdCpuUs !== undefined && floor?.workerdCpuUs !== undefined
      ? ours.workerdCpuUs - floor.workerdCpuUs
      : Number.NaN;
  lines.push({
    item: "1 hot path",
    target: "our workerd CPU ≤ 40 µs/request over the floor's",
    measured: Number.isFinite(over) ? `${over.toFixed(0)} µs` : "n/a",
    met: Number.isFinite(over) ? over <= 40 : undefined,
  });
  // The 40 µs were set on a machine where the floor ran 8,262 req/s, about 121 µs of one core per
  // request; on a slower machine every µs figure grows alike. The same bound as a share of the
  // floor's CPU is shown beside it, for reading only: the target stays the one above.
  const share = floor?.workerdCpuUs !== undefined ? over / floor.workerdCpuUs : Number.NaN;
  lines.push({
    item: "1 hot path",
    target: "(for reading: the same as a share of the floor's CPU; 40 of about 121 µs when set, 33%)",
    measured: Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : "n/a",
  });
  const p99 = both
    ? (ours.load as LoadFigures).p99Ms / Math.max(1, (floor.load as LoadFigures).p99Ms)
    : Number.NaN;
  lines.push({
    item: "1 hot path",
    target: "p99 ≤ 1.5× the floor's",
    measured: times(p99),
    met: both ? p99 <= 1.5 : undefined,
  });

  const row = (prefix: string) => input.engineRows.find((r) => r.name.startsWith(prefix));
  const flag = row("schema-meter (flag)");
  const flagFormats = row("schema-meter (flag, formats asserted)");
  const ajvPlain = row("ajv compiled (no formats");
  const ajvFormats = row("ajv compiled (formats");
  const engineRatio = flag && ajvPlain ? flag.valid / ajvPlain.valid : Number.NaN;
  lines.push({
    item: "2 engine",
    target: "≥ 0.5× ajv compiled (no formats), bench document",
    measured: times(engineRatio),
    met: Number.isFinite(engineRatio) ? engineRatio >= 0.5 : undefined,
  });
  const formatsRatio = flagFormats && ajvFormats ? flagFormats.valid / ajvFormats.valid : Number.NaN;
  lines.push({
    item: "2 engine",
    target: "formats asserted ≥ 1.5× ajv with ajv-formats",
    measured: times(formatsRatio),
    met: Number.isFinite(formatsRatio) ? formatsRatio >= 1.5 : undefined,
  });

  const buildRatio = input.builds ? input.builds.ours / input.builds.cfworker : Number.NaN;
  lines.push({
    item: "3 compile",
    target: "build + first validation of a fresh bench schema ≥ 1× @cfworker/json-schema's",
    measured: times(buildRatio),
    met: Number.isFinite(buildRatio) ? buildRatio >= 1 : undefined,
  });

  const bundle = input.bundle;
  lines.push({
    item: "4 cold start",
    target: "uploaded module ≤ 350 KiB gzip",
    measured: bundle
      ? `${(bundle.mainGzipBytes / 1024).toFixed(0)} KiB gzip (${(bundle.mainBytes / 1024).toFixed(0)} KiB)`
      : "n/a",
    met: bundle ? bundle.mainGzipBytes <= BUNDLE_TARGET_BYTES : undefined,
  });
  lines.push({
    item: "4 cold start",
    target: "code evaluated at startup ≤ 350 KiB gzip",
    measured: bundle
      ? `${(bundle.eagerGzipBytes / 1024).toFixed(0)} KiB gzip (split build, static imports)`
      : "n/a",
    met: bundle ? bundle.eagerGzipBytes <= BUNDLE_TARGET_BYTES : undefined,
  });
  const cold = (prefix: string) => input.coldStart.find((c) => c.name.startsWith(prefix));
  const [coldOurs, coldFloor] = [cold("ours"), cold("floor")];
  lines.push({
    item: "4 cold start",
    target: "first request of a fresh workerd, against the floor's (measured, no bound set)",
    measured:
      coldOurs && coldFloor
        ? `${ratio(coldOurs.spawnToResponseMs / coldFloor.spawnToResponseMs)}× spawn→response, ${ratio(coldOurs.firstRequestMs / coldFloor.firstRequestMs)}× first request`
        : "n/a",
  });

  const peerRatio =
    ours?.load && peer?.load ? ours.load.requestsPerSecond / peer.load.requestsPerSecond : Number.NaN;
  lines.push({
    item: "6 peer",
    target: "ours ≥ 2.3× the peer's req/s (keep the lead)",
    measured: times(peerRatio),
    met: Number.isFinite(peerRatio) ? peerRatio >= 2.3 : undefined,
  });
  lines.push({
    item: "7 growth",
    target: "table and PNG chart of CPU vs document, schema, batch size and error count",
    measured: input.growth.chart
      ? `written: ${input.growth.chart}`
      : `not written (${input.growth.skipped ?? "?"})`,
    met: input.growth.chart ? true : undefined,
  });
  return lines;
}

export function printTargets(input: TargetInputs, out: (line: string) => void = console.log): void {
  out("Issue 22 targets, this run:");
  out("| item | target | measured | status |");
  out("|---|---|---:|---|");
  for (const line of evaluateTargets(input)) {
    const status =
      line.met === undefined
        ? line.measured === "n/a"
          ? "not measured"
          : "—"
        : line.met
          ? "met"
          : "NOT met";
    out(`| ${line.item} | ${line.target} | ${line.measured} | ${status} |`);
  }
  out(
    "(not checked here: 2 `basic` output vs a previous run, 3 a multi-MB schema's compile time (npm run probe:compile), 5 rate-limiter state)",
  );
}
