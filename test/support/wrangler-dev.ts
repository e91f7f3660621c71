/**
 * Runs the real Worker under `wrangler dev` (workerd, where eval is forbidden as in production),
 * fully offline, on a free port. Used by the end-to-end suite and by `npm run dev`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { collectOutput, waitForHealth } from "./child-output";
import { freePort } from "./ports";

export interface WorkerProcess {
  url: string;
  port: number;
  /** Everything the process printed, for assertions on logs and for debugging failures. */
  output(): string;
  stop(): Promise<void>;
}

export interface WranglerDevProcess extends WorkerProcess {
  /** Kills wrangler and workerd at once (SIGKILL, no clean shutdown): a crash, for fault tests. */
  kill(): Promise<void>;
}

export interface WranglerDevOptions {
  /** Worker configuration (secrets included); written to a private temp env file, never to argv. */
  vars: Record<string, string>;
  port?: number;
  /** Forward the Worker's output to this process's stdout as it comes (for `npm run dev`). */
  echo?: boolean;
  readyTimeoutMs?: number;
  /** Enables `/__scheduled` so tests can fire the cron handler. */
  testScheduled?: boolean;
}

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The admission budget end-to-end suites give the Worker: a cold workerd's first EVAL through the
 * bridge, on two loaded cores, can take longer than the 50 ms production default, and free fails
 * closed, so set-up calls (sign-up, token) would see 503s that test nothing.
 */
export const E2E_ADMISSION_TIMEOUT_MS = "1000";

/** Environment that keeps wrangler off the network. */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_UPDATE_NOTIFIER: "1",
};

/**
 * dotenv syntax: single-quoted values are taken literally (JSON settings keep their quotes);
 * backticks for the rare value that contains a single quote.
 */
function envFileText(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (!value.includes("'") && !value.includes("\n")) return `${key}='${value}'`;
      if (!value.includes("`")) return `${key}=\`${value}\``;
      throw new Error(`${key}: a value with both ' and \` cannot be written to an env file`);
    })
    .join("\n");
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDevProcess> {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "schema-meter-worker-"));
  const envFile = join(dir, "worker.env");
  await writeFile(envFile, envFileText(options.vars), { mode: 0o600 });
  await chmod(envFile, 0o600);

  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--env-file",
    envFile,
    "--persist-to",
    join(dir, "state"),
    "--show-interactive-dev-session=false",
    ...(options.testScheduled ? ["--test-scheduled"] : []),
  ];
  const child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE_ENV, FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output = collectOutput(child, options.echo);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await killGroup(child);
    await rm(dir, { recursive: true, force: true });
  };
  const kill = async () => {
    await killGroup(child, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForHealth("wrangler dev", url, child, options.readyTimeoutMs ?? 60_000, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, output, stop, kill };
}

/** wrangler starts workerd as a child: stop the whole process group so nothing is left behind. */
async function killGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}
