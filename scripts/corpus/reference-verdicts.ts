/**
 * Records the verdicts of the reference validators (ajv, the class for the schema's draft; and
 * @cfworker/json-schema) for every document of the real-world corpus into
 * test/fixtures/real-world/verdicts.json (committed; read by the corpus test for RESULTS.md).
 * The expected verdict of a document is its folder; this prints where a reference disagrees.
 * Usage: tsx scripts/corpus/reference-verdicts.ts
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORPUS_DIR, loadCorpus } from "../../test/support/real-world-corpus";
import { draftOf, type RefVerdict, reference } from "./reference";

const verdicts: Record<string, { draft: string; ajv: RefVerdict; cfworker: RefVerdict }> = {};
let disagreements = 0;
for (const entry of loadCorpus()) {
  const refs = Object.fromEntries(Object.entries(entry.refs).map(([url, ref]) => [url, ref.json]));
  const draft = draftOf(entry.schema);
  const check = reference(entry.schema, refs, draft);
  for (const doc of entry.documents) {
    const data = JSON.parse(doc.text);
    const verdict = { draft, ajv: check.ajv(data), cfworker: check.cfworker(data) };
    verdicts[doc.id] = verdict;
    if (verdict.ajv !== doc.expected || verdict.cfworker !== doc.expected) {
      disagreements++;
      console.log(`${doc.id}: expected ${doc.expected}, ajv ${verdict.ajv}, cfworker ${verdict.cfworker}`);
    }
  }
}
writeFileSync(join(CORPUS_DIR, "verdicts.json"), `${JSON.stringify(verdicts, null, 1)}\n`);
console.log(
  `${Object.keys(verdicts).length} documents, ${disagreements} where a reference disagrees with the folder`,
);
