/**
 * Finds or starts a real redis-server for local runs and tests (dev tooling; production uses
 * Upstash). Tests that must not share data, or that stop Redis mid-run to see how the code copes
 * with an outage, start their own with `startRedisServer()`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./ports";
import { parseRedisUrl, RespClient } from "./resp";

export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT` (or REDIS_URL as given). */
  url: string;
  host: string;
  port: number;
  /** True when this module started the process; only then do stop/start do anything. */
  owned: boolean;
  /** Stops the process and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty, unless started with `persistence: "aof"`). */
  start(): Promise<void>;
}

export const REDIS_INSTALL_COMMAND = "sudo apt-get install -y redis-server";

const FALLBACK_BINARY_DIRS = ["/usr/bin", "/usr/sbin", "/usr/local/bin"];
const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 6379;
const READY_TIMEOUT_MS = 5000;
const STOP_GRACE_MS = 3000;

/** Where redis-server is looked for: PATH first, then the usual system folders. */
export function redisSearchDirs(): string[] {
  return [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...FALLBACK_BINARY_DIRS];
}

/** Path of the redis-server binary in the first of `searchDirs` that has one, if any. */
export function findRedisServerBinary(searchDirs: readonly string[] = redisSearchDirs()): string | undefined {
  for (const dir of searchDirs) {
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** True if a Redis at host:port answers PING (with PONG) within `timeoutMs`. Default 300 ms. */
export async function pingRedis(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  const client = new RespClient({ host, port, connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
  try {
    const reply = await client.command(["PING"]);
    return reply.type === "simple" && reply.value === "PONG";
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

/**
 * The Redis that local runs use: REDIS_URL if set; else one already answering on 127.0.0.1:6379
 * (shared, never stopped by us); else a fresh redis-server on a free port.
 */
export async function findOrStartRedis(): Promise<RedisServerHandle> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    const { host, port } = parseRedisUrl(fromEnv);
    return borrowedRedis(fromEnv, host, port);
  }
  if (await pingRedis(DEFAULT_HOST, DEFAULT_PORT)) {
    return borrowedRedis(`redis://${DEFAULT_HOST}:${DEFAULT_PORT}`, DEFAULT_HOST, DEFAULT_PORT);
  }
  return startRedisServer();
}

export interface StartRedisOptions {
  /** Folders to look for redis-server in. Default: PATH, then /usr/bin, /usr/sbin, /usr/local/bin. */
  searchDirs?: readonly string[];
  /**
   * "none" (default): nothing survives a stop. "aof": append-only file fsynced on every write,
   * kept across stop/start, the faithful local model of a durable Redis such as Upstash.
   */
  persistence?: "none" | "aof";
}

/**
 * A fresh redis-server of our own on a free port: no persistence, a temporary working folder,
 * killed at the latest when this process exits. Throws with the install command if redis-server
 * is missing.
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const binary = findRedisServerBinary(options.searchDirs);
  if (!binary) {
    const where = options.searchDirs
      ? options.searchDirs.join(", ")
      : `PATH, ${FALLBACK_BINARY_DIRS.join(", ")}`;
    throw new Error(
      `redis-server is not installed (looked in ${where}). ` +
        `Install it with: ${REDIS_INSTALL_COMMAND} (or set REDIS_URL to a running Redis).`,
    );
  }
  // The free port can be taken between our probe and redis binding it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = new OwnedRedisServer(binary, await freePort(), options.persistence ?? "none");
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
      if (!(error instanceof PortInUseError)) break;
    }
  }
  throw lastError;
}

function borrowedRedis(url: string, host: string, port: number): RedisServerHandle {
  // Someone else's Redis: we neither stop nor start it.
  return { url, host, port, owned: false, stop: async () => {}, start: async () => {} };
}

class PortInUseError extends Error {}

class OwnedRedisServer implements RedisServerHandle {
  readonly owned = true;
  readonly host = DEFAULT_HOST;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  // Redis's working folder; nothing is persisted, so each start gets a fresh one, removed on stop.
  private dir: string | undefined;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly persistence: "none" | "aof" = "none",
  ) {
    trackForExitCleanup(this);
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get running(): ChildProcess | undefined {
    return this.child;
  }

  async start(): Promise<void> {
    if (this.child) return;
    // With AOF the folder (and its append-only file) is kept across stop/start.
    this.dir ??= mkdtempSync(join(tmpdir(), "redis-test-"));
    const child = spawn(
      this.binary,
      [
        "--port",
        String(this.port),
        "--bind",
        this.host,
        "--save",
        "",
        ...(this.persistence === "aof"
          ? ["--appendonly", "yes", "--appendfsync", "always"]
          : ["--appendonly", "no"]),
        "--dir",
        this.dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    let output = "";
    const keepTail = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout?.on("data", keepTail);
    child.stderr?.on("data", keepTail);
    let spawnError: Error | undefined;
    // "error" without "exit" happens when the binary cannot be executed at all.
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", (error) => {
        spawnError = error;
        resolve();
      });
    }).then(() => {
      if (this.child === child) this.child = undefined;
    });
    const exitedEarly = this.exited.then(() => {
      const message = `redis-server on port ${this.port} exited during start-up:\n${spawnError?.message ?? output}`;
      throw /address already in use/i.test(output) ? new PortInUseError(message) : new Error(message);
    });
    await Promise.race([this.waitUntilReady(child), exitedEarly]);
    if (this.child !== child) await exitedEarly; // it died while we polled: report why
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      // Without persistence redis exits at once on SIGTERM; SIGKILL covers a hung process.
      const force = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(force);
    }
    if (this.persistence === "none") this.removeWorkingDir();
  }

  removeWorkingDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child !== child) return; // exited: start() reports why
      if (await pingRedis(this.host, this.port, 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${READY_TIMEOUT_MS} ms`);
  }
}

// Servers we started, so a test that forgets stop() still leaves no process or folder behind.
const ownedServers = new Set<OwnedRedisServer>();
let exitHookInstalled = false;

function trackForExitCleanup(server: OwnedRedisServer): void {
  ownedServers.add(server);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const owned of ownedServers) {
      owned.running?.kill("SIGKILL");
      owned.removeWorkingDir();
    }
  });
}
