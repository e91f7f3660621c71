/**
 * A CPU profile of the Worker while it is under load, through workerd's inspector (the Chrome
 * DevTools protocol over a WebSocket): `npm run bench -- --profile validate.cpuprofile`. The file
 * opens in Chrome DevTools (Performance) or any .cpuprofile viewer; the bench also prints the
 * functions with the most self time. Profiling slows the Worker (console output is mirrored to the
 * inspector, so logging looks costlier than it is): compare profiles with profiles, not with
 * figures taken without one.
 */
import WebSocket from "ws";

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
    children?: number[];
  }>;
  samples: number[];
  /** Microseconds from the previous sample (the first: from startTime) to each sample. */
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface CpuProfiler {
  stop(): Promise<CpuProfile>;
}

/** Attaches to the workerd inspector on `port` and starts sampling (every 100 µs). */
export async function startCpuProfile(port: number): Promise<CpuProfiler> {
  const targets = (await (
    await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) })
  ).json()) as Array<{ webSocketDebuggerUrl?: string }>;
  const url = targets.find((target) => target.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);

  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let lastId = 0;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    };
    const call = message.id === undefined ? undefined : waiting.get(message.id);
    if (!call || message.id === undefined) return;
    waiting.delete(message.id);
    if (message.error) call.reject(new Error(`inspector: ${message.error.message}`));
    else call.resolve(message.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++lastId;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });

  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  return {
    async stop() {
      try {
        const { profile } = (await send("Profiler.stop")) as { profile: CpuProfile };
        return profile;
      } finally {
        socket.close();
      }
    },
  };
}

/** The functions with the most self time, as shares of all samples (idle included). */
export function topSelfTime(profile: CpuProfile, rows: number): Array<{ share: number; name: string }> {
  const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
  const byName = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = nodeById.get(id)?.callFrame;
    if (!frame) continue;
    const file = frame.url.split("/").pop() || "(native)";
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  const total = Math.max(1, profile.samples.length);
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([name, count]) => ({ share: count / total, name }));
}
