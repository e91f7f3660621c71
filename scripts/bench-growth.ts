/**
 * `npm run bench:growth`: how validation cost grows with document size, schema size (fresh compile
 * and cached), batch size and error count, for our engine next to ajv and @cfworker/json-schema
 * (scripts/bench/growth.ts says how each row is made). Prints the tables and writes them, with a
 * PNG chart, to bench-results/ (growth.md, growth.png, growth.json); `npm run bench` runs it too.
 * Usage: tsx scripts/bench-growth.ts [--ms=150] [--rounds=3] [--out=bench-results]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { growthChartPng } from "./bench/chart";
import { growthTables, measureGrowth } from "./bench/growth";

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ms = Number(arg("ms", "150"));
const rounds = Math.max(1, Number(arg("rounds", "3")));
const out = resolve(import.meta.dirname, "..", arg("out", "bench-results"));

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const started = `${new Date().toISOString().slice(0, 16)} UTC, ${cpus().length} cores, Node ${process.version}, load average ${load()}`;
console.log(
  `[growth] ${started}; ${ms} ms of CPU per cell and round, median of ${rounds} interleaved rounds`,
);
const panels = await measureGrowth({ ms, rounds, log: (line) => console.log(`[growth] measuring ${line}`) });
const tables = growthTables(panels);
const note = `Measured ${started} (load average at the end ${load()}). CPU per call (process.cpuUsage), engines in one Node process; ajv compiled with new Function (forbidden on Workers), formats off for all.`;
console.log("");
console.log(tables);
console.log(note);
mkdirSync(out, { recursive: true });
writeFileSync(
  resolve(out, "growth.md"),
  `# How validation cost grows\n\n${note}\n\n![growth](growth.png)\n\n${tables}`,
);
writeFileSync(resolve(out, "growth.json"), `${JSON.stringify({ measured: started, panels }, null, 2)}\n`);
writeFileSync(
  resolve(out, "growth.png"),
  growthChartPng(
    panels,
    `How validation cost grows: CPU per call, log-log (dashed: cached). ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}`,
  ),
);
console.log(`[growth] wrote ${out}/growth.md, growth.json and growth.png`);
