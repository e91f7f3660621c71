/**
 * Runs scripts/bench-growth.ts (the growth tables and PNG chart) as a child process once the HTTP
 * load is over, as the engine bench is run, and returns its output.
 */
import { runBenchScript, scriptPath, TSX } from "./run-script";

export function runGrowthBench(options: { args: string[]; signal?: AbortSignal }): Promise<string> {
  return runBenchScript(
    { program: TSX, args: [scriptPath("scripts/bench-growth.ts"), ...options.args] },
    options.signal,
  );
}
