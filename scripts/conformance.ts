// Runs the official JSON-Schema-Test-Suite through the engine the Worker uses (src/validation);
// the runner is test/support/json-schema-suite.ts, which the unit tests also use.
// Usage: tsx scripts/conformance.ts [--verbose] [--draft=draft2020-12] [--min-2020-12=1299]
// Exits non-zero only when the run crashes or a --min-<draft>=N threshold is not met.
import { runJsonSchemaSuite, type Tally } from "../test/support/json-schema-suite";

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const withOptional = args.includes("--optional");
const onlyDraft = args.find((a) => a.startsWith("--draft="))?.slice(8);
const thresholds = new Map<string, number>();
for (const a of args) {
  const m = /^--min-(.+)=(\d+)$/.exec(a);
  if (m) thresholds.set(m[1] as string, Number(m[2]));
}

const rows = await runJsonSchemaSuite({
  drafts: onlyDraft ? [onlyDraft] : undefined,
  optional: withOptional,
});

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
