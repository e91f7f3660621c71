/**
 * Runs a TypeScript script as the Worker's bundle runs its code: bundled by esbuild without
 * keepNames (wrangler.toml's keep_names = false). tsx transpiles with keepNames, which wraps every
 * closure in a __name() call at each creation and so slows the engine down where production does
 * not: benchmarks of the engine run through this instead.
 *
 *   node scripts/run-bundled.mjs <script.ts> [args...]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { build } from "esbuild";

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node scripts/run-bundled.mjs <script.ts> [args...]");
  process.exit(2);
}
const root = resolve(import.meta.dirname, "..");

/** Each module's import.meta.dirname and filename as tsx gives them: its own, not the bundle's. */
const sourceLocation = {
  name: "source-location",
  setup(on) {
    on.onLoad({ filter: /\.ts$/ }, (file) => ({
      loader: "ts",
      contents: readFileSync(file.path, "utf8")
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(file.path)))
        .replaceAll("import.meta.filename", JSON.stringify(file.path)),
    }));
  },
};
// Inside the project, so that the bundle's imports of packages resolve from node_modules.
const outdir = join(root, "node_modules", ".cache", "run-bundled");
mkdirSync(outdir, { recursive: true });
const outfile = join(outdir, `${basename(entry, ".ts")}.mjs`);
await build({
  entryPoints: [resolve(entry)],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  keepNames: false,
  sourcemap: "inline",
  logLevel: "warning",
  plugins: [sourceLocation],
});
const run = spawnSync(process.execPath, ["--enable-source-maps", outfile, ...args], { stdio: "inherit" });
process.exit(run.status ?? 1);
