// Runs the official JSON-Schema-Test-Suite through the engine the Worker uses (src/validation).
// Usage: tsx scripts/conformance.ts [--verbose] [--draft=draft2020-12] [--min-2020-12=1299]
// Exits non-zero only when the run crashes or a --min-<draft>=N threshold is not met.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compileSchema, type DialectName } from "../src/validation/index";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const suite = process.env.JSON_SCHEMA_TEST_SUITE ?? resolve(repoRoot, "../shared/json-schema-test-suite");
const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const withOptional = args.includes("--optional");
const onlyDraft = args.find((a) => a.startsWith("--draft="))?.slice(8);
const thresholds = new Map<string, number>();
for (const a of args) {
  const m = /^--min-(.+)=(\d+)$/.exec(a);
  if (m) thresholds.set(m[1] as string, Number(m[2]));
}

const DRAFTS: Array<[string, DialectName]> = [
  ["draft4", "draft-04"],
  ["draft6", "draft-06"],
  ["draft7", "draft-07"],
  ["draft2019-09", "draft-2019-09"],
  ["draft2020-12", "draft-2020-12"],
];

// The suite's remotes are served at http://localhost:1234/ (as its README requires).
const remotesDir = join(suite, "remotes");
const remotes = new Map<string, unknown>();
const walk = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".json")) {
      remotes.set(
        `http://localhost:1234/${relative(remotesDir, p).split("\\").join("/")}`,
        JSON.parse(readFileSync(p, "utf8")),
      );
    }
  }
};
walk(remotesDir);
const resolveRemote = async (uri: string): Promise<unknown> => {
  const doc = remotes.get(uri);
  if (doc === undefined) throw new Error(`no such remote: ${uri}`);
  return structuredClone(doc);
};

interface TestCase {
  description: string;
  data: unknown;
  valid: boolean;
}
interface TestGroup {
  description: string;
  schema: unknown;
  tests: TestCase[];
}

interface Tally {
  passed: number;
  total: number;
  failures: string[];
}

async function runFile(
  file: string,
  dialect: DialectName,
  formatAssertion: boolean,
  tally: Tally,
): Promise<void> {
  const groups = JSON.parse(readFileSync(file, "utf8")) as TestGroup[];
  const name = relative(suite, file);
  for (const g of groups) {
    let compiled: Awaited<ReturnType<typeof compileSchema>> | undefined;
    let compileError: unknown;
    try {
      compiled = await compileSchema(g.schema, { resolveRemote, formatAssertion, defaultDialect: dialect });
    } catch (e) {
      compileError = e;
    }
    for (const t of g.tests) {
      tally.total++;
      let ok = false;
      let note = "";
      if (compiled) {
        try {
          const flag = compiled.validate(t.data, { output: "flag" }).valid;
          const basic = compiled.validate(t.data, { output: "basic" });
          if (flag !== basic.valid) note = ` (flag ${flag} != basic ${basic.valid})`;
          else if (!basic.valid && (basic.errors?.length ?? 0) === 0) note = " (invalid without errors)";
          ok = flag === t.valid && note === "";
        } catch (e) {
          note = ` (threw ${(e as Error).message})`;
        }
      } else note = ` (compile: ${(compileError as Error)?.message})`;
      if (ok) tally.passed++;
      else tally.failures.push(`${name} | ${g.description} | ${t.description}${note}`);
    }
  }
}

function jsonFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => join(dir, f))
      .sort();
  } catch {
    return [];
  }
}

const rows: Array<{ draft: string; req: Tally; fmt: Tally; opt: Tally }> = [];
for (const [dir, dialect] of DRAFTS) {
  if (onlyDraft && onlyDraft !== dir) continue;
  const req: Tally = { passed: 0, total: 0, failures: [] };
  const fmt: Tally = { passed: 0, total: 0, failures: [] };
  for (const f of jsonFiles(join(suite, "tests", dir))) await runFile(f, dialect, false, req);
  for (const f of jsonFiles(join(suite, "tests", dir, "optional", "format")))
    await runFile(f, dialect, true, fmt);
  const opt: Tally = { passed: 0, total: 0, failures: [] };
  if (withOptional) {
    for (const f of jsonFiles(join(suite, "tests", dir, "optional"))) {
      // format-assertion.json declares its own metaschema; the rest run with format annotation only.
      await runFile(f, dialect, false, opt);
    }
  }
  rows.push({ draft: dir, req, fmt, opt });
}

const pct = (t: Tally): string => (t.total ? `${((100 * t.passed) / t.total).toFixed(1)}%` : "-");
console.log(`| draft | required | format (assertion on) |${withOptional ? " other optional |" : ""}`);
console.log(`|---|---|---|${withOptional ? "---|" : ""}`);
for (const r of rows) {
  const opt = withOptional ? ` ${r.opt.passed}/${r.opt.total} (${pct(r.opt)}) |` : "";
  console.log(
    `| ${r.draft} | ${r.req.passed}/${r.req.total} (${pct(r.req)}) | ${r.fmt.passed}/${r.fmt.total} (${pct(r.fmt)}) |${opt}`,
  );
}
if (verbose) {
  for (const r of rows) {
    for (const f of [...r.req.failures, ...r.fmt.failures, ...r.opt.failures]) console.log(`FAIL ${f}`);
  }
}
let unmet = false;
for (const [draft, min] of thresholds) {
  const row = rows.find((r) => r.draft === draft || r.draft === `draft${draft}`);
  if (row && row.req.passed < min) {
    console.error(`threshold not met: ${row.draft} required ${row.req.passed} < ${min}`);
    unmet = true;
  }
}
process.exit(unmet ? 1 : 0);
