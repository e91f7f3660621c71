/**
 * Compile cost of the largest real-world schemas, the figures behind MAX_BODY_BYTES,
 * MAX_COMPILED_SCHEMA_BYTES and the compile units of src/engine/compile-budget.ts:
 *
 *   npm run probe:compile [-- <schema.json> ...]
 *
 * For each schema (default: the corpus' largest), three compilations in this process (the first
 * includes warming up): wall and CPU time, heap at the end of compiling and retained after a full
 * GC, subschemas compiled, the weight the cache charges (CompiledSchema.retainedBytes) and the work
 * units the compilation's budget counted. Runs under node --expose-gc (the script re-executes itself).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CompiledSchema, compileSchema, ValidationLimitError } from "../src/engine";

const CORPUS = join(import.meta.dirname, "../test/fixtures/real-world");
const DEFAULTS = ["vega-lite--spec", "biome--configuration", "octokit--webhooks", "asyncapi--3.1.0-full"].map(
  (folder) => join(CORPUS, folder, "schema.json"),
);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", import.meta.filename, ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  process.exit(0);
}

/** The smallest budget (in work units) the schema compiles within, to 1%. */
async function unitsNeeded(schema: unknown): Promise<number> {
  let low = 1000;
  let high = 100_000_000;
  while (high - low > low / 100) {
    const middle = Math.floor((low + high) / 2);
    try {
      await compileSchema(schema, { maxSteps: middle });
      high = middle;
    } catch (error) {
      if (!(error instanceof ValidationLimitError)) throw error;
      low = middle;
    }
  }
  return high;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const kept: CompiledSchema[] = [];
console.log(
  "| schema | kB | round | wall ms | CPU ms | heap at end MB | retained MB | subschemas | weight MB | units |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const file of process.argv.length > 2 ? process.argv.slice(2) : DEFAULTS) {
  const text = readFileSync(file, "utf8");
  const units = await unitsNeeded(JSON.parse(text));
  for (const round of [1, 2, 3]) {
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const compiled = await compileSchema(JSON.parse(text));
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const atEnd = process.memoryUsage().heapUsed - before;
    kept.push(compiled);
    gc();
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    const name = file.split("/").at(-2);
    console.log(
      `| ${name} | ${Math.round(text.length / 1000)} | ${round} | ${wall.toFixed(0)} | ${((used.user + used.system) / 1000).toFixed(0)} | ${mb(atEnd)} | ${mb(retained)} | ${compiled.footprint.nodes} | ${mb(compiled.retainedBytes)} | ${units} |`,
    );
  }
}
