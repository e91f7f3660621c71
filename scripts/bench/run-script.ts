/**
 * Runs one of the bench's scripts as a child process (once the HTTP load is over, so it measures
 * on a quiet machine) and returns what it printed; aborting the signal stops it.
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export async function runBenchScript(
  command: { program: string; args: string[]; env?: NodeJS.ProcessEnv },
  signal?: AbortSignal,
): Promise<string> {
  const child = spawn(command.program, command.args, {
    cwd: ROOT,
    env: command.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const onAbort = () => child.kill("SIGTERM");
  signal?.addEventListener("abort", onAbort, { once: true });
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
    if (code !== 0) throw new Error(`${command.args.join(" ")} exited with ${code}:\n${output}`);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return output;
}

/** The tsx binary, for scripts run as tsx runs them. */
export const TSX = join(ROOT, "node_modules/.bin/tsx");
/** A script path from the project root. */
export const scriptPath = (path: string) => join(ROOT, path);
