/**
 * Runs the built Worker directly under `workerd serve` (no wrangler in the request path): the
 * bundle from `wrangler deploy --dry-run --outdir`, a generated workerd config (capnp text) with
 * every module of the bundle, `compatibility_date`/`compatibility_flags` and `[vars]` from
 * wrangler.toml, one text binding per configuration value, an http socket on 127.0.0.1 and an
 * outbound network that may reach local addresses (the bridges of the local stack).
 *
 * Used by `npm run bench`: `wrangler dev` puts a proxy in front of workerd that costs about ten
 * times the Worker's own time per request here, so it would measure the proxy, not the Worker.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, relative, resolve, sep } from "node:path";
import { collectOutput, waitForHealth } from "./child-output";
import { freePort } from "./ports";
import { OFFLINE_ENV, type WorkerProcess } from "./wrangler-dev";

const ROOT = resolve(import.meta.dirname, "../..");

export interface WorkerdServeOptions {
  /** Worker configuration (secrets included): written to private files in a temp dir, never to argv. */
  vars: Record<string, string>;
  /** A folder holding a built bundle (index.js and its modules); built into the temp dir when absent. */
  bundleDir?: string;
  port?: number;
  /** Forward workerd's output to this process's stdout as it comes. */
  echo?: boolean;
  readyTimeoutMs?: number;
  /** Open workerd's inspector (Chrome DevTools protocol) on this 127.0.0.1 port, e.g. to profile. */
  inspectorPort?: number;
  /**
   * Wait for GET /health before resolving (default true). False resolves right after the spawn, so
   * the caller's first request is the process's first (the bench's cold-start figure).
   */
  waitForReady?: boolean;
}

export interface WorkerdProcess extends WorkerProcess {
  /** The workerd process id (e.g. to read its CPU time from /proc). */
  pid: number;
  /** Modules declared in the generated config, main module first. */
  modules: string[];
  /** `performance.now()` when workerd was spawned. */
  spawnedAt: number;
  compatibilityDate: string;
}

/** The workerd binary installed with wrangler (the `workerd` package or its platform package). */
export function workerdBinary(): string {
  const candidates = [
    join(ROOT, "node_modules/workerd/bin/workerd"),
    join(
      ROOT,
      `node_modules/@cloudflare/workerd-${process.platform}-${process.arch === "x64" ? "64" : process.arch}/bin/workerd`,
    ),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`workerd not found (looked at ${candidates.join(", ")}); run npm install`);
  return found;
}

export interface WranglerSettings {
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** Top-level `[vars]` (string values only). */
  vars: Record<string, string>;
}

/**
 * The few wrangler.toml settings workerd needs. A small line parser (no TOML library is installed):
 * top-level `key = "string"` / `key = ["a", "b"]` and the `[vars]` table.
 */
export async function readWranglerSettings(path = join(ROOT, "wrangler.toml")): Promise<WranglerSettings> {
  const text = await readFile(path, "utf8");
  const top: Record<string, unknown> = {};
  const vars: Record<string, string> = {};
  let table = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (!line || line.startsWith("#")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      table = header[1] ?? "";
      continue;
    }
    const entry = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!entry) continue;
    const [, key = "", valueText = ""] = entry;
    let value: unknown;
    try {
      // TOML basic strings and arrays of them are JSON-compatible.
      value = JSON.parse(valueText);
    } catch {
      value = valueText;
    }
    if (table === "") top[key] = value;
    else if (table === "vars" && typeof value === "string") vars[key] = value;
  }
  const compatibilityDate = top.compatibility_date;
  if (typeof compatibilityDate !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(compatibilityDate)) {
    throw new Error(`${path}: no compatibility_date`);
  }
  const flags = top.compatibility_flags;
  return {
    main: typeof top.main === "string" ? top.main : "src/index.ts",
    compatibilityDate,
    compatibilityFlags: Array.isArray(flags) ? flags.filter((f): f is string => typeof f === "string") : [],
    vars,
  };
}

/**
 * `wrangler deploy --dry-run --outdir <outdir>`, offline. Resolves once the bundle is written.
 * `minify: false` overrides wrangler.toml's minify (a CPU profile then names every function).
 */
export async function buildWorkerBundle(outdir: string, options: { minify?: boolean } = {}): Promise<void> {
  const output: string[] = [];
  const args = [
    "deploy",
    "--dry-run",
    "--outdir",
    outdir,
    ...(options.minify === false ? ["--minify=false"] : []),
  ];
  const child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE_ENV, FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once("error", fail);
    child.once("exit", (exitCode) => done(exitCode));
  });
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${output.join("")}`);
  if (!existsSync(join(outdir, "index.js"))) {
    throw new Error(`wrangler deploy --dry-run wrote no index.js in ${outdir}:\n${output.join("")}`);
  }
}

/** Module type by file extension, as wrangler's default module rules name them. */
const MODULE_TYPES: Record<string, "esModule" | "commonJsModule" | "text" | "data" | "wasm" | "json"> = {
  ".js": "esModule",
  ".mjs": "esModule",
  ".cjs": "commonJsModule",
  ".wasm": "wasm",
  ".txt": "text",
  ".html": "text",
  ".sql": "text",
  ".bin": "data",
  ".json": "json",
};

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path, base)));
    else if (entry.isFile()) files.push(relative(base, path).split(sep).join("/"));
  }
  return files.sort();
}

/** The bundle's modules (main `index.js` first), skipping source maps and wrangler's README. */
export async function bundleModules(bundleDir: string): Promise<Array<{ name: string; type: string }>> {
  const modules: Array<{ name: string; type: string }> = [];
  for (const name of await listFiles(bundleDir)) {
    if (name.endsWith(".map") || name === "README.md") continue;
    const type = MODULE_TYPES[extname(name).toLowerCase()];
    if (!type) throw new Error(`bundle file ${name}: no workerd module type for this extension`);
    modules.push({ name, type });
  }
  const main = modules.findIndex((module) => module.name === "index.js");
  if (main < 0) throw new Error(`no index.js in ${bundleDir}`);
  modules.unshift(...modules.splice(main, 1));
  return modules;
}

const capnpString = (text: string): string => {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`not a plain ASCII config string: ${text}`);
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
};

/**
 * The workerd config. Values are `embed`ded from files next to it (no escaping of secrets or JSON),
 * module sources likewise from `bundle/`.
 */
export function workerdConfigText(options: {
  modules: Array<{ name: string; type: string }>;
  bindings: string[];
  compatibilityDate: string;
  compatibilityFlags: string[];
  port: number;
}): string {
  const modules = options.modules
    .map((m) => `    (name = ${capnpString(m.name)}, ${m.type} = embed ${capnpString(`bundle/${m.name}`)}),`)
    .join("\n");
  const bindings = options.bindings
    .map((name) => `    (name = ${capnpString(name)}, text = embed ${capnpString(`vars/${name}`)}),`)
    .join("\n");
  const flags = options.compatibilityFlags.map(capnpString).join(", ");
  return `# Generated by test/support/workerd-serve.ts
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    # The Worker's fetch() goes here: local addresses allowed, for the bridges on 127.0.0.1.
    (name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [
    (name = "http", address = ${capnpString(`127.0.0.1:${options.port}`)}, http = (), service = "main"),
  ],
);

const mainWorker :Workerd.Worker = (
  modules = [
${modules}
  ],
  compatibilityDate = ${capnpString(options.compatibilityDate)},
  compatibilityFlags = [${flags}],
  bindings = [
${bindings}
  ],
  globalOutbound = "internet",
);
`;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort: a workerd we started never outlives this process, even on an unexpected exit. */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) {
      try {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/** Builds (unless `bundleDir` is given) and serves the Worker with `workerd serve`; waits for /health. */
export async function startWorkerdServe(options: WorkerdServeOptions): Promise<WorkerdProcess> {
  const dir = await mkdtemp(join(tmpdir(), "schema-meter-workerd-"));
  try {
    const bundleDir = join(dir, "bundle");
    if (options.bundleDir) await cp(options.bundleDir, bundleDir, { recursive: true });
    else await buildWorkerBundle(bundleDir);
    const modules = await bundleModules(bundleDir);
    const wrangler = await readWranglerSettings();

    // wrangler.toml [vars] first, then the given configuration over them (as `wrangler dev` does).
    const vars = { ...wrangler.vars, ...options.vars };
    await mkdir(join(dir, "vars"), { mode: 0o700 });
    for (const [name, value] of Object.entries(vars)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`binding name not allowed: ${name}`);
      await writeFile(join(dir, "vars", name), value, { mode: 0o600 });
    }

    // freePort can race with another process: retry on "address in use".
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      const configPath = join(dir, "config.capnp");
      await writeFile(
        configPath,
        workerdConfigText({
          modules,
          bindings: Object.keys(vars),
          compatibilityDate: wrangler.compatibilityDate,
          compatibilityFlags: wrangler.compatibilityFlags,
          port,
        }),
        { mode: 0o600 },
      );
      try {
        const running = await spawnWorkerd(dir, configPath, port, options);
        return {
          ...running,
          modules: modules.map((m) => `${m.name} (${m.type})`),
          compatibilityDate: wrangler.compatibilityDate,
          stop: async () => {
            await running.stop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        const inUse = error instanceof Error && /address already in use|EADDRINUSE/i.test(error.message);
        if (!inUse || options.port !== undefined || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function spawnWorkerd(
  dir: string,
  configPath: string,
  port: number,
  options: WorkerdServeOptions,
): Promise<WorkerProcess & { pid: number; spawnedAt: number }> {
  installExitHook();
  // Unless echoed live, the output goes to a file rather than a pipe read by this process: under
  // load (one log line per request) a pipe makes workerd wait for this process's busy event loop.
  const logPath = join(dir, "workerd.log");
  const logFd = options.echo ? undefined : openSync(logPath, "a", 0o600);
  const inspector =
    options.inspectorPort === undefined ? [] : [`--inspector-addr=127.0.0.1:${options.inspectorPort}`];
  const spawnedAt = performance.now();
  const child = spawn(workerdBinary(), ["serve", configPath, "config", ...inspector], {
    cwd: dir,
    env: { ...process.env, FORCE_COLOR: "0" },
    stdio: ["ignore", logFd ?? "pipe", logFd ?? "pipe"],
  });
  if (logFd !== undefined) closeSync(logFd);
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  const output = logFd !== undefined ? fileOutput(logPath) : collectOutput(child, options.echo);

  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  if (options.waitForReady !== false) {
    try {
      await waitForHealth("workerd serve", url, child, options.readyTimeoutMs ?? 30_000, output);
    } catch (error) {
      await stop();
      throw error;
    }
  }
  return { url, port, pid: child.pid ?? -1, spawnedAt, output, stop };
}

/** The last 2 MB of a log file, read on demand; once the file is gone, what was read last. */
function fileOutput(path: string): () => string {
  let last = "";
  return () => {
    try {
      const size = statSync(path).size;
      const start = Math.max(0, size - 2_000_000);
      const bytes = Buffer.alloc(size - start);
      const fd = openSync(path, "r");
      try {
        readSync(fd, bytes, 0, bytes.length, start);
      } finally {
        closeSync(fd);
      }
      last = bytes.toString("utf8");
    } catch {
      // Removed with the temp dir after stop(): keep the last output read.
    }
    return last;
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
