/**
 * Cold start: a fresh `workerd serve` process per sample, whose first request is the timed one
 * (issue 22 item 4). Two figures per sample:
 *  - spawn → first response: process start, config load, the Worker's modules compiled and their
 *    top level evaluated, and the first request served (for ours: token key import, schema compile,
 *    the Redis script loaded, ...);
 *  - first request: from the request that found the socket open to its response.
 * Samples of the Workers compared are interleaved, so a change in machine load skews them alike.
 */
import { startWorkerdServe } from "../../test/support/workerd-serve";
import { median } from "./setup";

export interface ColdStartTarget {
  name: string;
  bundleDir: string;
  vars: Record<string, string>;
  /** The first request, given the fresh process's base URL. */
  request: (baseUrl: string) => { url: string; init: RequestInit };
}

export interface ColdStartFigures {
  name: string;
  /** Medians over the samples, ms. */
  spawnToResponseMs: number;
  firstRequestMs: number;
  samples: number;
  /** Statuses of the first responses (all should be 200). */
  statuses: number[];
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function oneSample(target: ColdStartTarget, timeoutMs: number) {
  const worker = await startWorkerdServe({
    vars: target.vars,
    bundleDir: target.bundleDir,
    waitForReady: false,
  });
  try {
    const deadline = worker.spawnedAt + timeoutMs;
    for (;;) {
      const { url, init } = target.request(worker.url);
      const sent = performance.now();
      try {
        const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        const done = performance.now();
        return {
          spawnToResponseMs: done - worker.spawnedAt,
          firstRequestMs: done - sent,
          status: response.status,
        };
      } catch (error) {
        // Not listening yet (connection refused): try again until the deadline.
        if (performance.now() > deadline)
          throw new Error(`${target.name}: no response in ${timeoutMs} ms (${String(error)})`);
        await pause(2);
      }
    }
  } finally {
    await worker.stop();
  }
}

/** `samples` fresh processes per target, interleaved; medians. */
export async function measureColdStarts(
  targets: ColdStartTarget[],
  samples: number,
  signal?: AbortSignal,
  timeoutMs = 30_000,
): Promise<ColdStartFigures[]> {
  const raw = targets.map(() => ({ spawn: [] as number[], first: [] as number[], statuses: [] as number[] }));
  for (let i = 0; i < samples && !signal?.aborted; i++) {
    for (const [k, target] of targets.entries()) {
      if (signal?.aborted) break;
      const sample = await oneSample(target, timeoutMs);
      const into = raw[k] as (typeof raw)[number];
      into.spawn.push(sample.spawnToResponseMs);
      into.first.push(sample.firstRequestMs);
      into.statuses.push(sample.status);
      await pause(200);
    }
  }
  return targets.map((target, k) => {
    const r = raw[k] as (typeof raw)[number];
    return {
      name: target.name,
      spawnToResponseMs: median(r.spawn),
      firstRequestMs: median(r.first),
      samples: r.spawn.length,
      statuses: r.statuses,
    };
  });
}
