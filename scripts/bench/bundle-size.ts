/**
 * What a new isolate pays for before it serves (issue 22 item 4, target ≤ 350 KiB gzip):
 *  - the module wrangler uploads (`wrangler deploy --dry-run` output, index.js): its bytes and
 *    gzip -9 size. wrangler bundles with esbuild without code splitting, so a dynamic `import()`
 *    stays in this one module, wrapped so that its top level runs only when imported: the whole
 *    module is still parsed (V8 pre-parses lazily), but the SDKs behind `import()` are not evaluated;
 *  - the code evaluated at startup: the same entry built by esbuild with splitting, the modules
 *    reached by static imports only (what a split upload would make a new isolate load), and the
 *    packages that weigh most in it and in the lazily imported rest.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";

const ROOT = resolve(import.meta.dirname, "../..");
const KiB = 1024;

export interface BundleFigures {
  mainBytes: number;
  mainGzipBytes: number;
  /** Statically reachable part of a split build of the same entry. */
  eagerBytes: number;
  eagerGzipBytes: number;
  /** Everything in the split build (eager + lazily imported chunks). */
  splitTotalBytes: number;
  /** Heaviest packages, bytes in the split build's output, eager and lazy. */
  eagerPackages: Array<[string, number]>;
  lazyPackages: Array<[string, number]>;
}

const gzipSize = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;

/** wrangler.toml's module aliases (`alias = { "name" = "./path" }`), for the split build to match the real one. */
function wranglerAliases(): Record<string, string> {
  const line =
    /^alias\s*=\s*\{(.*)\}\s*$/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1] ?? "";
  return Object.fromEntries([...line.matchAll(/"([^"]+)"\s*=\s*"([^"]+)"/g)].map((m) => [m[1], m[2]]));
}

/** node_modules/@scope/name/... → @scope/name; src/engine/x.ts → src/engine. */
function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? input.split("/").slice(0, 2).join("/");
}

function heaviest(outputs: Array<Metafile["outputs"][string]>, rows: number): Array<[string, number]> {
  const byPackage = new Map<string, number>();
  for (const output of outputs) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, rows);
}

/** Sizes of the built bundle in `bundleDir` and of a split build of `src/index.ts`. */
export async function measureBundle(
  bundleDir: string,
  entry = join(ROOT, "src/index.ts"),
): Promise<BundleFigures> {
  const main = readFileSync(join(bundleDir, "index.js"));
  const outdir = await mkdtemp(join(tmpdir(), "schema-meter-split-"));
  try {
    const result = await build({
      entryPoints: [entry],
      outdir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      external: ["node:*", "cloudflare:*"],
      alias: wranglerAliases(),
      loader: { ".sql": "text", ".html": "text", ".txt": "text" },
      minify: true,
      keepNames: true,
      metafile: true,
      logLevel: "error",
      absWorkingDir: ROOT,
    });
    const outputs = result.metafile.outputs;
    const mainOutput = Object.keys(outputs).find((name) => outputs[name]?.entryPoint !== undefined);
    const eager = new Set<string>();
    const visit = (name: string) => {
      if (eager.has(name) || !outputs[name]) return;
      eager.add(name);
      for (const imported of outputs[name].imports)
        if (imported.kind === "import-statement") visit(imported.path);
    };
    if (mainOutput) visit(mainOutput);
    let eagerBytes = 0;
    let eagerGzipBytes = 0;
    let splitTotalBytes = 0;
    for (const name of Object.keys(outputs)) {
      if (name.endsWith(".map")) continue;
      const bytes = readFileSync(resolve(ROOT, name));
      splitTotalBytes += bytes.length;
      if (eager.has(name)) {
        eagerBytes += bytes.length;
        eagerGzipBytes += gzipSize(bytes);
      }
    }
    const lazyNames = Object.keys(outputs).filter((name) => !eager.has(name) && !name.endsWith(".map"));
    return {
      mainBytes: main.length,
      mainGzipBytes: gzipSize(main),
      eagerBytes,
      eagerGzipBytes,
      splitTotalBytes,
      eagerPackages: heaviest(
        [...eager].map((name) => outputs[name] as Metafile["outputs"][string]),
        6,
      ),
      lazyPackages: heaviest(
        lazyNames.map((name) => outputs[name] as Metafile["outputs"][string]),
        6,
      ),
    };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

export const kib = (bytes: number) => `${(bytes / KiB).toFixed(0)} KiB`;
