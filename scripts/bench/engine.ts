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
  };
}
