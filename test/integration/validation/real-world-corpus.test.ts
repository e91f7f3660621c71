/**
 * The real-world schema corpus (test/fixtures/real-world/, from scripts/corpus/fetch.ts) through
 * POST /v1/validate of the app factory, with the production limits. The expected verdict of a
 * document is its folder; every document where our answer differs must be listed, with a reason, in
 * known-differences.json, and every listed one must still differ: a new difference fails, and so does
 * a fixed one still listed (remove it). Writes the table RESULTS.md (full run only).
 *
 * The `$ref`s the corpus bundles (refs.json: URL to file) are served by a stub of the global fetch
 * for exactly those URLs, their hosts on SCHEMA_FETCH_ALLOWLIST; every other request passes through.
 *
 * The whole corpus runs in `npm test` (about 30 s here); `npm run test:corpus` runs this file alone and
 * rewrites RESULTS.md (CORPUS_RESULTS=1). CORPUS_UPDATE=1 rewrites known-differences.json from the run,
 * keeping the reasons already written: review the diff before committing it.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CORPUS_DIR,
  type CorpusSchema,
  classOfSchema,
  type FailureClass,
  loadCorpus,
} from "../../support/real-world-corpus";
import { type AccessHarness, startAccessHarness } from "../harness/access";

const RESULTS = process.env.CORPUS_RESULTS === "1";
const UPDATE = process.env.CORPUS_UPDATE === "1";
const KNOWN_FILE = join(CORPUS_DIR, "known-differences.json");

interface Known {
  class: FailureClass | "author";
  ours: string;
  reason: string;
}
type RefVerdicts = Record<string, { draft: string; ajv: string; cfworker: string }>;

const corpus = loadCorpus();
const verdicts = JSON.parse(readFileSync(join(CORPUS_DIR, "verdicts.json"), "utf8")) as RefVerdicts;
const known = JSON.parse(readFileSync(KNOWN_FILE, "utf8")) as Record<string, Known>;

let harness: AccessHarness;
let token: string;
const realFetch = globalThis.fetch;
const served = new Map<string, string>();
for (const entry of corpus) for (const [url, ref] of Object.entries(entry.refs)) served.set(url, ref.text);

beforeAll(async () => {
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const text = served.get(url.split("#")[0]!);
    if (text !== undefined) {
      return new Response(text, { headers: { "Content-Type": "application/schema+json" } });
    }
    return realFetch(input, init);
  }) as typeof fetch;
  harness = await startAccessHarness({
    env: {
      RATE_LIMIT_TIERS: JSON.stringify({
        free: { limit: 5, windowSeconds: 10 },
        pro: { limit: 100_000, windowSeconds: 10 },
      }),
      SCHEMA_FETCH_ALLOWLIST: [...new Set([...served.keys()].map((url) => new URL(url).host))].join(","),
    },
  });
  token = (await harness.account("pro")).token;
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  await harness?.stop();
});

/** "valid", "invalid", or "refused <status> <code>: <detail>". */
async function ours(entry: CorpusSchema, documentText: string): Promise<string> {
  const response = await harness.request("/v1/validate", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    // The schema as the client sends it: its own text inside the body, the document as JSON text.
    body: `{"schema":${entry.text},"json":${JSON.stringify(documentText)},"output":"flag"}`,
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, any>;
  if (response.status === 200 && typeof body.valid === "boolean") return body.valid ? "valid" : "invalid";
  return `refused ${response.status} ${body.code ?? "?"}: ${String(body.detail ?? body.title ?? "").slice(0, 160)}`;
}

function classify(entry: CorpusSchema, id: string, got: string): FailureClass | "author" {
  const ref = verdicts[id];
  if (!got.startsWith("refused") && ref && ref.ajv === got && ref.cfworker === got) return "author";
  if (/^refused (413|422 LIMIT_EXCEEDED)/.test(got) || /too large|bytes/i.test(got)) return "size";
  if (/look(ahead|behind|around)|\(\?[<!=]/i.test(got)) return "lookaround";
  if (/unknown \$schema/.test(got)) return "nonstandard-$schema";
  const schemaClass = classOfSchema(entry);
  return schemaClass === "none" ? "other" : schemaClass;
}

interface Row {
  entry: CorpusSchema;
  docs: { id: string; expected: string; ours: string; ajv: string; cfworker: string }[];
}

describe("the real-world corpus through POST /v1/validate", () => {
  it("every document: the differences from the expected verdict are exactly the known ones", async () => {
    const rows: Row[] = [];
    const differences: Record<string, Known> = {};
    for (const entry of corpus) {
      const row: Row = { entry, docs: [] };
      for (const doc of entry.documents) {
        const got = await ours(entry, doc.text);
        const ref = verdicts[doc.id] ?? { ajv: "-", cfworker: "-" };
        row.docs.push({
          id: doc.id,
          expected: doc.expected,
          ours: got,
          ajv: ref.ajv,
          cfworker: ref.cfworker,
        });
        if (got !== doc.expected) {
          differences[doc.id] = known[doc.id] ?? {
            class: classify(entry, doc.id, got),
            ours: got.slice(0, 80),
            reason: `expected ${doc.expected}; ours: ${got}; ajv: ${ref.ajv}; cfworker: ${ref.cfworker}`,
          };
        }
      }
      rows.push(row);
    }
    await harness.settle();
    const inSample = new Set(rows.flatMap((row) => row.docs.map((doc) => doc.id)));
    const listedNowhere = Object.keys(known).filter((id) => !inSample.has(id));
    if (RESULTS) writeFileSync(join(CORPUS_DIR, "RESULTS.md"), results(rows));
    if (UPDATE) {
      const merged = Object.fromEntries(Object.entries(differences).sort(([a], [b]) => a.localeCompare(b)));
      writeFileSync(KNOWN_FILE, `${JSON.stringify(merged, null, 2)}\n`);
    }
    const listed = Object.keys(known).filter((id) => inSample.has(id));
    const newDifferences = Object.keys(differences).filter((id) => !(id in known));
    const noLongerDiffer = listed.filter((id) => !(id in differences));
    // Both directions in one assertion, so a run shows every new and every fixed difference at once:
    // a new one is fixed or listed with a reason; a fixed one is removed from known-differences.json.
    const newOnes = Object.fromEntries(newDifferences.map((id) => [id, differences[id]!.reason]));
    expect({ newDifferences: newOnes, noLongerDiffer }).toEqual({ newDifferences: {}, noLongerDiffer: [] });
    expect(listedNowhere, "listed in known-differences.json but not in the corpus").toEqual(
      UPDATE ? listedNowhere : [],
    );
    for (const id of listed) expect(known[id]!.reason, id).toBeTruthy();
  }, 600_000);
});

/** One schema through POST /v1/validate with `strict` as given: the status and the body. */
async function schemaOnly(entry: CorpusSchema, strict: boolean) {
  const response = await harness.request("/v1/validate", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: `{"schema":${entry.text},"data":null,"output":"flag","strict":${strict}}`,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Whether a JSON Pointer names a member of `value`. */
function pointsInto(value: unknown, pointer: string): boolean {
  let v = value;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof v !== "object" || v === null || !Object.hasOwn(v, token)) return false;
    v = (v as Record<string, unknown>)[token];
  }
  return true;
}

describe("schema warnings over the real-world corpus", () => {
  it("warn without refusing by default; each names a member of the schema; strict refuses exactly those", async () => {
    const byCode: Record<string, number> = {};
    let withWarnings = 0;
    let compiled = 0;
    for (const entry of corpus) {
      const lenient = await schemaOnly(entry, false);
      // Refusals for other reasons (size, unresolvable refs) are the first test's business.
      if (lenient.status !== 200) continue;
      compiled++;
      const warnings = (lenient.body.warnings ?? []) as Array<{
        code: string;
        keyword: string;
        schemaLocation: string;
      }>;
      for (const w of warnings) {
        byCode[w.code] = (byCode[w.code] ?? 0) + 1;
        expect(pointsInto(entry.schema, w.schemaLocation), `${entry.folder} ${w.schemaLocation}`).toBe(true);
        expect(w.keyword.startsWith("x-"), `${entry.folder} ${w.keyword}`).toBe(false);
        expect(["markdownDescription", "errorMessage"]).not.toContain(w.keyword);
      }
      if (warnings.length > 0) withWarnings++;
      const strict = await schemaOnly(entry, true);
      expect(strict.status, entry.folder).toBe(warnings.length > 0 ? 422 : 200);
      if (warnings.length > 0) expect(strict.body.code).toBe("SCHEMA_INVALID");
    }
    await harness.settle();
    console.log(`schema warnings: ${withWarnings} of ${compiled} schemas`, byCode);
    // The corpus is real: some schemas do have typos and ignored keywords, most have none of the kinds.
    expect(compiled).toBeGreaterThan(150);
    expect(withWarnings).toBeGreaterThan(0);
    expect(withWarnings).toBeLessThan(compiled);
  }, 600_000);
});

const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : "-");

function results(rows: Row[]): string {
  const all = rows.flatMap((row) => row.docs.map((doc) => ({ ...doc, cls: classOfSchema(row.entry) })));
  const agree = (docs: typeof all, who: "ours" | "ajv" | "cfworker") =>
    docs.filter((d) => d[who] === d.expected).length;
  const bytes = rows.reduce((sum, row) => sum + row.entry.bytes, 0);
  const lines = [
    "# Real-world corpus: results",
    "",
    "Generated by `npm run test:corpus` (test/integration/validation/real-world-corpus.test.ts); do not edit.",
    "Expected: the document's folder (valid/ or invalid/). Ours: POST /v1/validate with the production limits",
    "(a refusal counts as a disagreement). ajv and cfworker: verdicts.json (scripts/corpus/reference-verdicts.ts;",
    "`error`: the validator could not compile the schema).",
    "",
    `${rows.length} schemas (${(bytes / 1e6).toFixed(1)} MB of schema), ${all.length} documents.`,
    "",
    "| failure class | schemas | documents | ours = expected | ajv = expected | cfworker = expected |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  const classes = [
    "lookaround",
    "size",
    "later-draft-keyword",
    "base-uri",
    "nonstandard-$schema",
    "none",
  ] as const;
  for (const cls of [...classes, "all"] as const) {
    const docs = cls === "all" ? all : all.filter((d) => d.cls === cls);
    const schemas =
      cls === "all" ? rows.length : rows.filter((row) => classOfSchema(row.entry) === cls).length;
    const n = docs.length;
    lines.push(
      `| ${cls} | ${schemas} | ${n} | ${agree(docs, "ours")} (${pct(agree(docs, "ours"), n)}) | ${agree(docs, "ajv")} (${pct(agree(docs, "ajv"), n)}) | ${agree(docs, "cfworker")} (${pct(agree(docs, "cfworker"), n)}) |`,
    );
  }
  lines.push(
    "",
    "| schema | class | kB | documents | expected (valid/invalid) | ours | ajv | cfworker |",
    "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |",
  );
  for (const row of rows) {
    const docs = row.docs;
    const v = docs.filter((d) => d.expected === "valid").length;
    const cell = (who: "ours" | "ajv" | "cfworker") =>
      `${docs.filter((d) => d[who] === d.expected).length}/${docs.length}`;
    lines.push(
      `| ${row.entry.folder} | ${classOfSchema(row.entry)} | ${Math.round(row.entry.bytes / 1000)} | ${docs.length} | ${v}/${docs.length - v} | ${cell("ours")} | ${cell("ajv")} | ${cell("cfworker")} |`,
    );
  }
  const off = all.filter((d) => d.ours !== d.expected || d.ajv !== d.expected || d.cfworker !== d.expected);
  lines.push(
    "",
    "## Documents where someone disagrees with the folder",
    "",
    "| document | expected | ours | ajv | cfworker |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const d of off)
    lines.push(
      `| ${d.id} | ${d.expected} | ${d.ours.replace(/\|/g, "\\|").replace(/\n/g, " ")} | ${d.ajv} | ${d.cfworker} |`,
    );
  return `${lines.join("\n")}\n`;
}

if (!existsSync(KNOWN_FILE)) throw new Error(`${KNOWN_FILE} is missing`);
