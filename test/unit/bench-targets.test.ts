import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { growthChartPng } from "../../scripts/bench/chart";
import type { LoadFigures } from "../../scripts/bench/load";
import { evaluateTargets } from "../../scripts/bench/targets";

const load = (requestsPerSecond: number, p99Ms: number): LoadFigures => ({
  requests: requestsPerSecond * 10,
  requestsPerSecond,
  p50Ms: 1,
  p99Ms,
  ok: requestsPerSecond * 10,
  non2xx: 0,
  errors: 0,
  statusCounts: { "200": requestsPerSecond * 10 },
  durationSeconds: 10,
});

describe("bench targets (issue 22)", () => {
  const routes = [
    { route: "POST /v1/validate", load: load(900, 15), workerdCpuUs: 150 },
    { route: "floor: POST /parse-redis", load: load(1000, 12), workerdCpuUs: 120 },
    { route: "peer: POST /v1/validate", load: load(300, 40), workerdCpuUs: 450 },
  ];
  const bundle = {
    mainBytes: 1_800_000,
    mainGzipBytes: 470 * 1024,
    eagerBytes: 1_100_000,
    eagerGzipBytes: 300 * 1024,
    splitTotalBytes: 1_800_000,
    eagerPackages: [],
    lazyPackages: [],
  };

  it("computes each ratio from the run's figures and says met or not met against its bound", () => {
    const lines = evaluateTargets({
      routes,
      bundle,
      coldStart: [],
      engineRows: [],
      builds: { ours: 1700, cfworker: 2400 },
      growth: { skipped: "off" },
    });
    const find = (target: string) => lines.find((line) => line.target.includes(target));
    expect(find("0.8 of floor")).toMatchObject({ measured: "0.90", met: true });
    expect(find("40 µs")).toMatchObject({ measured: "30 µs", met: true });
    expect(find("p99")).toMatchObject({ measured: "1.25×", met: true });
    expect(find("uploaded module")).toMatchObject({ met: false });
    expect(find("evaluated at startup")).toMatchObject({ met: true });
    expect(find("peer")).toMatchObject({ measured: "3.00×", met: true });
    expect(find("fresh bench schema")).toMatchObject({ measured: "0.71×", met: false });
    expect(find("PNG")?.met).toBeUndefined();
  });

  it("reports a target whose figures are missing as not measured, never as met", () => {
    const lines = evaluateTargets({ routes: [], coldStart: [], engineRows: [], growth: {} });
    for (const line of lines.filter((l) => !l.target.includes("no bound"))) {
      expect(line.met, line.target).toBeUndefined();
      expect(line.measured.startsWith("n/a") || line.measured.startsWith("not written"), line.target).toBe(
        true,
      );
    }
  });

  it("draws the growth chart as a PNG with every series in its colour", () => {
    const panel = {
      title: "Document size",
      xLabel: "bytes",
      series: [
        {
          name: "schema-meter",
          points: [
            { x: 1000, us: 2 },
            { x: 1_000_000, us: 2000 },
          ],
        },
        {
          name: "ajv",
          points: [
            { x: 1000, us: 1 },
            { x: 1_000_000, us: 900 },
          ],
        },
      ],
    };
    const png = PNG.sync.read(growthChartPng([panel, panel], "test chart µs"));
    expect([png.width, png.height]).toEqual([1600, 560]);
    const has = ([r, g, b]: number[]) => {
      for (let i = 0; i < png.data.length; i += 4) {
        if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b) return true;
      }
      return false;
    };
    expect(has([214, 39, 40])).toBe(true); // schema-meter's red
    expect(has([31, 119, 180])).toBe(true); // ajv's blue
  });
});
