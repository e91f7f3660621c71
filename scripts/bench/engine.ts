/**
 * Engine-only figures: runs scripts/bench-engine.ts (our engine next to @hyperjump/json-schema,
 * @cfworker/json-schema and compiled ajv, all in one Node process) as a child process, so it runs
 * on a quiet machine after the HTTP load, and picks the three comparison rows out of its table.
 */
import { runBenchScript, scriptPath } from "./run-script";

export interface EngineRow {
  name: string;
  /** Validations per second on order.valid.json. */
  valid: number;
  invalid: number;
}

export interface EngineFigures {
  /** bench-engine.ts's own output, verbatim. */
  output: string;
  rows: EngineRow[];
  ours?: EngineRow;
  hyperjump?: EngineRow;
  ajv?: EngineRow;
  /** Builds + first validations of a fresh bench schema per CPU second (issue 22 item 3). */
  builds?: BuildRates;
}

export interface BuildRates {
  ours: number;
  cfworker: number;
}

/** The build table's rates ("| schema-meter | 1.7k |"), or undefined when it is missing. */
export function parseBuildTable(output: string): BuildRates | undefined {
  const rates = new Map<string, number>();
  for (const line of output.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length === 4 && cells[1]) rates.set(cells[1], perSecond(cells[2] ?? ""));
  }
  const ours = rates.get("schema-meter");
  const cfworker = rates.get("@cfworker/json-schema");
  return ours !== undefined && cfworker !== undefined && Number.isFinite(ours) && Number.isFinite(cfworker)
    ? { ours, cfworker }
    : undefined;
}

/** "26.1k" → 26100. */
const perSecond = (cell: string): number => {
  const match = /^([\d.]+)\s*([kM]?)$/.exec(cell.trim());
  if (!match) return Number.NaN;
  const scale = match[2] === "k" ? 1e3 : match[2] === "M" ? 1e6 : 1;
  return Number(match[1]) * scale;
};

export function parseEngineTable(output: string): EngineRow[] {
  const rows: EngineRow[] = [];
  for (const line of output.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    // | name | valid | invalid | ratio |  →  ["", name, valid, invalid, ratio, ""]
    if (cells.length < 5 || !cells[1] || cells[1] === "validator" || cells[1].startsWith("---")) continue;
    const valid = perSecond(cells[2] ?? "");
    const invalid = perSecond(cells[3] ?? "");
    if (Number.isFinite(valid)) rows.push({ name: cells[1], valid, invalid });
  }
  return rows;
}

export async function runEngineBench(options: {
  benchDir: string;
  ms: number;
  signal?: AbortSignal;
}): Promise<EngineFigures> {
  // Bundled without keepNames, as the Worker is built (npm run bench:engine does the same).
  const output = await runBenchScript(
    {
      program: process.execPath,
      args: [
        scriptPath("scripts/run-bundled.mjs"),
        scriptPath("scripts/bench-engine.ts"),
        `--ms=${options.ms}`,
      ],
      env: { ...process.env, BENCH_DIR: options.benchDir, JSON_SCHEMA_BENCH_DIR: options.benchDir },
    },
    options.signal,
  );
  const rows = parseEngineTable(output);
  return {
    output,
    rows,
    ours: rows.find((row) => row.name.startsWith("schema-meter")),
    hyperjump: rows.find((row) => row.name.includes("hyperjump")),
    ajv: rows.find((row) => row.name.startsWith("ajv")),
    builds: parseBuildTable(output),
  };
}
