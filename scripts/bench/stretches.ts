/**
 * The stretches of synchronous work in a CPU profile of workerd: runs of contiguous samples in
 * which the isolate's thread was busy (anything but "(idle)" and "(program)", the thread waiting in
 * workerd's event loop), with their duration (the samples' timeDeltas) and the functions that took
 * them. A GET /health that arrives during a stretch waits for its end, so the longest stretch is
 * what bounds /health's latency while a request is being served.
 *
 * A yield (src/lib/yield-thread.ts) with nothing else ready resumes within a few microseconds, less
 * than the sampling interval (about 170 us here): the profile would show the slices on either side
 * as one stretch. markYields therefore rewrites the profiled bundle's yieldThread to wait
 * YIELD_MARK_MS, so every yield leaves a gap in the samples (and the attack's wall time grows by
 * that much per yield). The mark is long because on a loaded machine the sampler itself is often
 * not scheduled for 5-15 ms (gaps seen here at load average 6): a gap shorter than IDLE_GAP_US is
 * taken as busy. So a short wait for I/O (Redis, a fetch) is counted into the stretches around it:
 * a stretch's figure is an upper bound.
 *
 * Frames are mapped through the bundle's source map to our `src/` files when one is given, so the
 * tables name `src/engine/compiler.ts:123` rather than a line of the bundle.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join } from "node:path";
import type { CpuProfile } from "./profile";

/** Samples of a thread not running JavaScript, GC or V8 work: waiting in workerd's event loop. */
const IDLE = new Set(["(idle)", "(program)"]);

/** How long a yield waits in a profiled bundle: a gap in the samples a stretch does not span. */
export const YIELD_MARK_MS = 25;
/** A gap between two samples longer than this is the thread idle (microseconds). */
const IDLE_GAP_US = 20_000;

/** Makes every yieldThread of the (unminified) bundle in `bundleDir` visible in a profile. */
export function markYields(bundleDir: string): void {
  const path = join(bundleDir, "index.js");
  const source = readFileSync(path, "utf8");
  const yieldThread = "var yieldThread = () => new Promise((resume) => setTimeout(resume, 0));";
  const at = source.indexOf(yieldThread);
  if (at < 0 || source.indexOf(yieldThread, at + 1) >= 0) {
    throw new Error(`${path}: no single \`${yieldThread}\` to mark (is the bundle minified?)`);
  }
  // Same line count, so the source map still holds.
  writeFileSync(path, source.replace(yieldThread, yieldThread.replace(", 0)", `, ${YIELD_MARK_MS})`)));
}

export interface Stretch {
  /** Start, in ms after the profile started. */
  atMs: number;
  ms: number;
  samples: number;
  /** Functions by samples in which they were on top of the stack. */
  self: Array<{ name: string; ms: number }>;
  /** Our src/ functions by samples in which they were anywhere on the stack. */
  inclusive: Array<{ name: string; ms: number }>;
}

/** Names a frame `fn src/file.ts:line` (through the source map when there is one). */
export function frameNamer(
  sourceMapPath?: string,
): (frame: CpuProfile["nodes"][number]["callFrame"]) => string {
  let map: SourceMap | undefined;
  if (sourceMapPath) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(sourceMapPath, "utf8")));
    } catch {
      map = undefined;
    }
  }
  return (frame) => {
    const fn = frame.functionName || "(anonymous)";
    if (!frame.url) return fn;
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber ?? 0);
    if (entry && "originalSource" in entry && entry.originalSource) {
      const source = entry.originalSource.replace(/^.*?\/(src|node_modules)\//, "$1/");
      return `${fn} ${source}:${entry.originalLine + 1}`;
    }
    return `${fn} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
  };
}

/** Stretches of busy samples longer than `minMs`, longest first. */
export function findStretches(
  profile: CpuProfile,
  options: { minMs: number; rows?: number; name?: ReturnType<typeof frameNamer> },
): Stretch[] {
  const name = options.name ?? frameNamer();
  const rows = options.rows ?? 6;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const names = new Map<number, string>();
  const nameOf = (id: number) => {
    let text = names.get(id);
    if (text === undefined) {
      const frame = byId.get(id)?.callFrame;
      text = frame ? name(frame) : "?";
      names.set(id, text);
    }
    return text;
  };
  const busy = (id: number) => !IDLE.has(byId.get(id)?.callFrame.functionName ?? "(idle)");

  // timeDeltas[i] is the time from sample i - 1 to sample i. V8 takes no sample while the isolate
  // is unlocked (workerd waiting for events), so the thread's idle time between two tasks is a gap
  // between samples, not an "(idle)" sample: a gap of over IDLE_GAP_US ends a stretch.
  const deltas = profile.timeDeltas ?? profile.samples.map(() => 0);
  const times: number[] = [];
  let clock = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    clock += deltas[i] ?? 0;
    times.push(clock);
  }
  const sorted = [...deltas].sort((a, b) => a - b);
  const interval = sorted[Math.floor(sorted.length / 2)] ?? 100;
  const stretches: Stretch[] = [];
  const summarise = (from: number, to: number): Stretch => {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    for (let i = from; i <= to; i++) {
      const id = profile.samples[i] as number;
      // A sample stands for the time to the next one in the stretch (the last: one interval).
      const weight = (i < to ? (times[i + 1] as number) - (times[i] as number) : interval) / 1000;
      const top = nameOf(id);
      self.set(top, (self.get(top) ?? 0) + weight);
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = nameOf(at);
        if (!frame.includes(" src/") || seen.has(frame)) continue;
        seen.add(frame);
        inclusive.set(frame, (inclusive.get(frame) ?? 0) + weight);
      }
    }
    const top = (counts: Map<string, number>) =>
      [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, rows)
        .map(([frame, frameMs]) => ({ name: frame, ms: frameMs }));
    const ms = ((times[to] as number) - (times[from] as number) + interval) / 1000;
    return {
      atMs: (times[from] as number) / 1000,
      ms,
      samples: to - from + 1,
      self: top(self),
      inclusive: top(inclusive),
    };
  };
  let start = -1;
  const close = (last: number) => {
    if (
      start >= 0 &&
      ((times[last] as number) - (times[start] as number) + interval) / 1000 >= options.minMs
    ) {
      stretches.push(summarise(start, last));
    }
    start = -1;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const isBusy = busy(profile.samples[i] as number);
    if (start >= 0 && (!isBusy || (deltas[i] ?? 0) > IDLE_GAP_US)) close(i - 1);
    if (isBusy && start < 0) start = i;
  }
  close(profile.samples.length - 1);
  return stretches.sort((a, b) => b.ms - a.ms);
}

/** The stretches as text: one line each, then its top functions by self and by inclusive time. */
export function formatStretches(stretches: Stretch[]): string {
  const lines: string[] = [];
  for (const stretch of stretches) {
    lines.push(
      `  ${stretch.ms.toFixed(1)} ms at +${stretch.atMs.toFixed(0)} ms (${stretch.samples} samples)`,
    );
    lines.push(
      `    self: ${stretch.self.map((row) => `${row.name} ${row.ms.toFixed(1)}`).join("; ")}`,
      `    incl: ${stretch.inclusive.map((row) => `${row.name} ${row.ms.toFixed(1)}`).join("; ")}`,
    );
  }
  return lines.join("\n");
}
