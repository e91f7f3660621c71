/**
 * Finds or starts a real PostgreSQL server for local runs and tests (dev tooling; production uses
 * Supabase). Tests that stop the database mid-run to see how the code copes with an outage start
 * their own throwaway cluster with `startPostgresCluster()`.
 */
import {
  type ChildProcess,
  type SpawnOptions,
  type SpawnSyncReturns,
  spawn,
  spawnSync,
} from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import pg from "pg";
import { freePort } from "./ports";

export interface PostgresHandle {
  /** `postgres://USER@127.0.0.1:PORT/postgres`: a superuser-ish connection to a maintenance database. */
  adminUrl: string;
  /** True when this module started the server; only then do stop/start do anything. */
  owned: boolean;
  /**
   * Stops the server and waits until it has exited: no process is left running. An owned cluster's
   * files stay so that `start()` can bring the same cluster back; they are removed by `destroy()`,
   * or at the latest when this process ends (however it ends).
   */
  stop(): Promise<void>;
  /** Starts the same cluster again on the same port, with its data. */
  start(): Promise<void>;
}

/** An owned cluster: a handle that can also remove its files right away. */
export interface PostgresCluster extends PostgresHandle {
  owned: true;
  port: number;
  /** Stops the server (if running) and deletes the cluster's folder. The handle is dead after. */
  destroy(): Promise<void>;
}

export interface TestDatabase {
  /** Connection string of the new database (same server and credentials as the admin URL). */
  url: string;
  name: string;
  /** Terminates its connections and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

export const POSTGRES_INSTALL_COMMAND = "sudo apt-get install -y postgresql";

const HOST = "127.0.0.1";
const DEFAULT_PORT = 5432;
/**
 * How long a probe of a running server may take. Generous on purpose: with nothing listening the
 * connection is refused at once, so this only matters for a server that is slow to answer (two
 * cores under a whole test run), and a probe that gave up too early would start a throwaway
 * cluster instead (initdb alone takes a minute under such load).
 */
const PROBE_TIMEOUT_MS = 5000;
const PG_CTL_TIMEOUT_S = 30;
/** The OS user that owns the cluster when we run as root (initdb and postgres refuse to run as root). */
const CLUSTER_OS_USER = "postgres";

/**
 * The server that local runs use, in this order: DATABASE_URL if set (borrowed); else one already
 * accepting connections on 127.0.0.1:5432 as `postgres` or as the OS user (borrowed); else a fresh
 * throwaway cluster of our own on a free port. Throws with the install command if the PostgreSQL
 * binaries are missing.
 */
export async function findOrStartPostgres(): Promise<PostgresHandle> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return borrowedPostgres(await adminUrlFor(fromEnv));

  const candidates = [...new Set(["postgres", currentOsUser()])].map(
    (user) => `postgres://${encodeURIComponent(user)}@${HOST}:${DEFAULT_PORT}/postgres`,
  );
  for (const url of candidates) {
    if (await canConnect(url, PROBE_TIMEOUT_MS)) return borrowedPostgres(url);
  }
  return startPostgresCluster();
}

/**
 * A fresh cluster of our own: `initdb -A trust -U postgres` in a temporary folder, started with
 * `pg_ctl` on a free port, listening on 127.0.0.1 only with its unix socket in that folder.
 * Durability is off (fsync) because the data is thrown away. Stopped and removed at the latest
 * when this process exits.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const binDir = findPostgresBinDir();
  if (!binDir) {
    throw new Error(
      "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin " +
        `or on PATH. Install them with: ${POSTGRES_INSTALL_COMMAND} (or set DATABASE_URL to a running server).`,
    );
  }
  const cluster = new OwnedCluster(binDir, osUserForCluster());
  try {
    cluster.init();
    // The free port can be taken between our probe and postgres binding it; try a few.
    for (let attempt = 0; ; attempt++) {
      cluster.port = await freePort();
      try {
        await cluster.start();
        return cluster;
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= 2) throw error;
      }
    }
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

/**
 * Creates a uniquely named database (`<prefix>_<random>`) on the handle's server. The prefix is
 * reduced to lowercase letters, digits and underscores. Default prefix: `schema_meter_test`.
 */
/** The database `npm run dev` and the operator scripts keep across runs. */
export const DEV_DATABASE = "schema_meter_dev";

/** URL of database `name` on `server`, created when absent (kept across runs, unlike test databases). */
export async function ensureDatabase(
  server: Pick<PostgresHandle, "adminUrl">,
  name: string,
): Promise<string> {
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(
  handle: Pick<PostgresHandle, "adminUrl">,
  prefix = "schema_meter_test",
): Promise<TestDatabase> {
  const safePrefix =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, "_")
      .slice(0, 40) || "test";
  const name = `${safePrefix}_${randomBytes(5).toString("hex")}`;
  await withClient(handle.adminUrl, (client) => client.query(`create database ${quoteIdent(name)}`));
  const url = new URL(handle.adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      await withClient(handle.adminUrl, async (client) => {
        // Pools in the test process may still hold idle connections; drop would wait for them.
        await client.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
          [name],
        );
        const { rows } = await client.query<{ v: number }>(
          "select current_setting('server_version_num')::int as v",
        );
        const force = (rows[0]?.v ?? 0) >= 130000 ? " with (force)" : "";
        await client.query(`drop database if exists ${quoteIdent(name)}${force}`);
      });
      dropped = true;
    },
  };
}

/** True if a `select 1` over `url` succeeds within `timeoutMs`. */
export async function canConnect(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {}); // a server going away must not crash the probe
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function borrowedPostgres(adminUrl: string): PostgresHandle {
  // Someone else's server: we neither stop nor start it.
  return { adminUrl, owned: false, stop: async () => {}, start: async () => {} };
}

/**
 * DATABASE_URL names one database; creating others needs a connection to the same server. Use its
 * `postgres` database when we can reach it, else keep the URL as given (CREATE DATABASE works from
 * any database the user may connect to, e.g. on hosts that forbid `postgres`).
 */
async function adminUrlFor(databaseUrl: string): Promise<string> {
  let maintenance: URL;
  try {
    maintenance = new URL(databaseUrl);
  } catch {
    throw new Error("DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)");
  }
  maintenance.pathname = "/postgres";
  const candidate = maintenance.toString();
  return candidate !== databaseUrl && (await canConnect(candidate, 2000)) ? candidate : databaseUrl;
}

class PortInUseError extends Error {}

class OwnedCluster implements PostgresCluster {
  readonly owned = true;
  port = 0;
  private readonly dir: string;
  private running = false;
  private removed = false;
  private readonly reaper: ChildProcess;

  constructor(
    private readonly binDir: string,
    private readonly osUser: OsUser | undefined,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "schema-meter-pg-"));
    if (osUser) chownSync(this.dir, osUser.uid, osUser.gid);
    ownedClusters.add(this);
    this.reaper = this.startReaper();
  }

  get adminUrl(): string {
    return `postgres://postgres@${HOST}:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, "data");
  }

  private get logFile(): string {
    return join(this.dir, "postgres.log");
  }

  init(): void {
    const result = this.run("initdb", [
      "-D",
      this.dataDir,
      "-A",
      "trust",
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    if (result.status !== 0) throw new Error(`initdb failed:\n${outputOf(result)}`);
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.removed) throw new Error("this PostgreSQL cluster was destroyed; start a new one");
    const serverOptions = [
      `-p ${this.port}`,
      `-c listen_addresses=${HOST}`,
      `-k '${this.dir}'`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
    ].join(" ");
    const result = await this.runAsync("pg_ctl", [
      "-D",
      this.dataDir,
      "-l",
      this.logFile,
      "-o",
      serverOptions,
      "-w",
      "-t",
      String(PG_CTL_TIMEOUT_S),
      "start",
    ]);
    if (result.status !== 0) {
      const log = readTail(this.logFile);
      const message = `PostgreSQL on port ${this.port} did not start:\n${result.output}\n${log}`;
      throw /address already in use|could not bind/i.test(log)
        ? new PortInUseError(message)
        : new Error(message);
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    // Fast shutdown: open sessions are terminated, which is what "the database went down" means.
    const result = await this.runAsync("pg_ctl", ["-D", this.dataDir, "-m", "fast", "-w", "stop"]);
    if (result.status !== 0) throw new Error(`pg_ctl stop failed:\n${result.output}`);
    this.running = false;
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.removeNow();
    }
  }

  /** Synchronous, for the exit hook: no process and no folder may outlive the test run. */
  stopAndRemoveSync(): void {
    if (this.running) {
      this.run("pg_ctl", ["-D", this.dataDir, "-m", "immediate", "-w", "stop"]);
      this.running = false;
    }
    this.removeNow();
  }

  private removeNow(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.removed = true;
    ownedClusters.delete(this);
    // Nothing left to reap. The reaper leads its own process group (detached): end it and its sleep.
    if (this.reaper.pid && this.reaper.exitCode === null) {
      try {
        process.kill(-this.reaper.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }

  /**
   * Test runners (vitest's workers among them) may kill this process without running exit hooks.
   * A detached watcher outlives it: once this process is gone, it stops the server and deletes
   * the folder, so a forgotten or killed cluster never lingers.
   */
  private startReaper(): ChildProcess {
    const script = [
      'alive() { [ -d "/proc/$1" ] || kill -0 "$1" 2>/dev/null; }',
      'while alive "$1"; do sleep 1; done',
      '"$2/pg_ctl" -D "$3/data" -m immediate -w stop >/dev/null 2>&1',
      'rm -rf "$3"',
    ].join("\n");
    const reaper = spawn("/bin/sh", ["-c", script, "pg-reaper", String(process.pid), this.binDir, this.dir], {
      cwd: "/",
      detached: true,
      stdio: "ignore",
      uid: this.osUser?.uid,
      gid: this.osUser?.gid,
    });
    reaper.on("error", () => {}); // without a reaper, the exit hook and destroy() still clean up
    reaper.unref();
    return reaper;
  }

  private spawnOptions(): SpawnOptions {
    // The cluster folder is the only place the postgres OS user can be sure to reach.
    return {
      cwd: this.dir,
      uid: this.osUser?.uid,
      gid: this.osUser?.gid,
      env: { ...process.env, LC_ALL: "C" },
    };
  }

  private run(tool: string, args: string[]): SpawnSyncReturns<string> {
    return spawnSync(join(this.binDir, tool), args, { ...this.spawnOptions(), encoding: "utf8" });
  }

  private runAsync(tool: string, args: string[]): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(join(this.binDir, tool), args, {
        ...this.spawnOptions(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-4000);
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      child.once("error", (error) => resolve({ status: null, output: error.message }));
      child.once("close", (status) => resolve({ status, output }));
    });
  }
}

// Clusters we own, so a test that forgets stop() still leaves no process or folder behind.
const ownedClusters = new Set<OwnedCluster>();
process.once("exit", () => {
  for (const cluster of ownedClusters) cluster.stopAndRemoveSync();
});

interface OsUser {
  uid: number;
  gid: number;
}

/** When we are root, the cluster runs as the `postgres` OS user; otherwise as ourselves. */
function osUserForCluster(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync("id", [flag, CLUSTER_OS_USER], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      `Running as root, but there is no "${CLUSTER_OS_USER}" OS user to own a throwaway cluster ` +
        `(initdb refuses to run as root). Install the server with: ${POSTGRES_INSTALL_COMMAND}`,
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, else a PATH folder with both. */
export function findPostgresBinDir(): string | undefined {
  const hasTools = (dir: string) =>
    ["initdb", "pg_ctl", "postgres"].every((tool) => {
      try {
        accessSync(join(dir, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  let versions: string[] = [];
  try {
    versions = readdirSync("/usr/lib/postgresql")
      .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // not a Debian-style install
  }
  const dirs = [
    ...versions.map((version) => `/usr/lib/postgresql/${version}/bin`),
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean),
  ];
  return dirs.find(hasTools);
}

function currentOsUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "postgres";
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function outputOf(result: SpawnSyncReturns<string>): string {
  return `${result.error?.message ?? ""}${result.stdout ?? ""}${result.stderr ?? ""}`.slice(-4000);
}

function readTail(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-2000);
  } catch {
    return "";
  }
}
