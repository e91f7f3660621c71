/**
 * The official JSON-Schema-Test-Suite (vendored in test/fixtures, or JSON_SCHEMA_TEST_SUITE)
 * run through the engine the Worker uses (src/engine): required tests with format as an
 * annotation, `optional/format` with format asserted, optionally the other optional tests. Each
 * test passes when flag and basic output agree with the expected verdict (and an invalid verdict
 * carries errors). Used by `npm run conformance` and by test/unit/conformance.test.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { compileSchema, type DialectName } from "../../src/engine";
import { JSON_SCHEMA_SUITE_DIR } from "./fixtures";

export const DEFAULT_SUITE_DIR = JSON_SCHEMA_SUITE_DIR;

export const DRAFTS: Array<[string, DialectName]> = [
  ["draft4", "draft-04"],
  ["draft6", "draft-06"],
  ["draft7", "draft-07"],
  ["draft2019-09", "draft-2019-09"],
  ["draft2020-12", "draft-2020-12"],
];

export interface Tally {
  passed: number;
  total: number;
  failures: string[];
}

export interface DraftResult {
  draft: string;
  /** Required tests, format as an annotation. */
  req: Tally;
  /** optional/format, format asserted. */
  fmt: Tally;
  /** The other optional tests (only with `optional: true`). */
  opt: Tally;
}

interface TestGroup {
  description: string;
  schema: unknown;
  tests: Array<{ description: string; data: unknown; valid: boolean }>;
}

const emptyTally = (): Tally => ({ passed: 0, total: 0, failures: [] });

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

/** The suite's remotes, as served at http://localhost:1234/ (as its README requires). */
function loadRemotes(suiteDir: string): Map<string, unknown> {
  const remotesDir = join(suiteDir, "remotes");
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
  return remotes;
}

/** Runs the suite, draft by draft (all of them unless `drafts` names some, e.g. ["draft2020-12"]). */
export async function runJsonSchemaSuite(
  options: {
    suiteDir?: string;
    drafts?: string[];
    optional?: boolean;
    /** `"dialect": "strict"`: no later-draft keywords in older drafts. Default false, as the API. */
    strictDialect?: boolean;
  } = {},
): Promise<DraftResult[]> {
  const suiteDir = options.suiteDir ?? DEFAULT_SUITE_DIR;
  const remotes = loadRemotes(suiteDir);
  const resolveRemote = async (uri: string): Promise<unknown> => {
    const doc = remotes.get(uri);
    if (doc === undefined) throw new Error(`no such remote: ${uri}`);
    return structuredClone(doc);
  };

  async function runFile(file: string, dialect: DialectName, formatAssertion: boolean, tally: Tally) {
    const groups = JSON.parse(readFileSync(file, "utf8")) as TestGroup[];
    const name = relative(suiteDir, file);
    for (const g of groups) {
      let compiled: Awaited<ReturnType<typeof compileSchema>> | undefined;
      let compileError: unknown;
      try {
        compiled = await compileSchema(g.schema, {
          resolveRemote,
          formatAssertion,
          defaultDialect: dialect,
          strictDialect: options.strictDialect === true,
        });
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

  const results: DraftResult[] = [];
  for (const [dir, dialect] of DRAFTS) {
    if (options.drafts && !options.drafts.includes(dir)) continue;
    const result: DraftResult = { draft: dir, req: emptyTally(), fmt: emptyTally(), opt: emptyTally() };
    for (const f of jsonFiles(join(suiteDir, "tests", dir))) await runFile(f, dialect, false, result.req);
    for (const f of jsonFiles(join(suiteDir, "tests", dir, "optional", "format")))
      await runFile(f, dialect, true, result.fmt);
    if (options.optional) {
      // format-assertion.json declares its own metaschema; the rest run with format annotation only.
      for (const f of jsonFiles(join(suiteDir, "tests", dir, "optional"))) {
        await runFile(f, dialect, false, result.opt);
      }
    }
    results.push(result);
  }
  return results;
}
