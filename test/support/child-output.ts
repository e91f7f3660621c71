/** Helpers shared by the runners of child processes that serve the Worker (wrangler dev, workerd serve). */
import type { ChildProcess } from "node:child_process";

/**
 * Drains the child's stdout and stderr (a full pipe would stall it), keeping the last megabyte
 * for assertions and error messages; `echo` also forwards it to this process's stdout.
 */
export function collectOutput(child: ChildProcess, echo = false): () => string {
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
    if (echo) process.stdout.write(chunk);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return () => output;
}

/** Polls `GET /health` until it answers 200; fails early with the output if the child exits. */
export async function waitForHealth(
  name: string,
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${output()}`);
}
