/**
 * Runs scripts/bench-growth.ts (the growth tables and PNG chart) as a child process once the HTTP
 * load is over, as the engine bench is run, and returns its output.
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export async function runGrowthBench(options: { args: string[]; signal?: AbortSignal }): Promise<string> {
  const child = spawn(
    join(ROOT, "node_modules/.bin/tsx"),
    [join(ROOT, "scripts/bench-growth.ts"), ...options.args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const onAbort = () => child.kill("SIGTERM");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    const code = await new Promise<number | null>((done, fail) => {
      child.once("error", fail);
      child.once("exit", (exitCode) => done(exitCode));
    });
    if (code !== 0) throw new Error(`scripts/bench-growth.ts exited with ${code}:\n${output}`);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  return output;
}
