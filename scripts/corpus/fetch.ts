/**
 * Regenerates test/fixtures/real-world/ from pinned npm packages (not run by the tests; its output is
 * committed). For each schema in manifest.ts: `npm pack <pkg>@<version>` into a temp dir, extract,
 * copy the schema, bundle the documents its relative `$ref`s reach (refs/ and refs.json, URL to file),
 * copy the documents the package ships, and add generated documents (generate.ts) that both reference
 * validators confirm. The hand-made folders of scripts/corpus/handmade/ are copied as they are.
 * Usage: tsx scripts/corpus/fetch.ts [--keep-temp]
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { generate } from "./generate";
import { PACKAGES, type PackageEntry, type SchemaEntry, type ShippedDocs } from "./manifest";
import { reference } from "./reference";

const ROOT = resolve(import.meta.dirname, "../..");
const OUT = join(ROOT, "test/fixtures/real-world");
const HANDMADE = join(import.meta.dirname, "handmade");
/** Documents over this size are not vendored (the API's default document limit is 100 kB). */
const MAX_DOCUMENT = 200_000;

/** JSON with comments (// and /* *\/) and trailing commas, as the tools read their config files. */
export function parseJsonc(text: string): unknown {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

const tmp = mkdtempSync(join(tmpdir(), "corpus-"));
const unpacked = new Map<string, { dir: string; name: string; version: string; license: string }>();

function unpack(spec: string) {
  const known = unpacked.get(spec);
  if (known) return known;
  const dest = join(tmp, String(unpacked.size));
  mkdirSync(dest);
  const file = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", dest], {
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop()!;
  execFileSync("tar", ["xzf", join(dest, file), "-C", dest]);
  const dir = join(dest, "package");
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const entry = {
    dir,
    name: pkg.name as string,
    version: pkg.version as string,
    license: String(pkg.license),
  };
  if (`${entry.name}@${entry.version}` !== spec)
    throw new Error(`${spec} unpacked as ${entry.name}@${entry.version}`);
  unpacked.set(spec, entry);
  return entry;
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, base) : [relative(base, path)];
  });
}

/** The `$id`s (and draft-04 `id`s) embedded in a document, resolved against its base. */
function idsOf(node: unknown, base: string | undefined, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const item of node) idsOf(item, base, found);
  else if (node && typeof node === "object") {
    const id = (node as any).$id ?? (node as any).id;
    let here = base;
    if (typeof id === "string" && !id.startsWith("#")) {
      try {
        here = new URL(id, base).href.split("#")[0]!;
        found.add(here);
      } catch {}
    }
    for (const value of Object.values(node)) idsOf(value, here, found);
  }
  return found;
}

function refsOf(node: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const item of node) refsOf(item, found);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && !value.startsWith("#"))
        found.add(value.split("#")[0]!);
      else if (!["examples", "example", "default", "const", "enum"].includes(key)) refsOf(value, found);
    }
  }
  return found;
}

/** The relative-$ref documents of a schema, URL to file in the package; null when one cannot be bundled. */
function bundle(schema: any, file: string): Map<string, string> | null {
  const found = new Map<string, string>();
  const embedded = idsOf(schema, undefined);
  const queue: [any, string, string | undefined][] = [[schema, file, schema.$id ?? schema.id]];
  while (queue.length) {
    const [doc, path, base] = queue.shift()!;
    for (const ref of refsOf(doc)) {
      if (/^https?:\/\/json-schema\.org\//.test(ref) || ref === "") continue;
      if (/^[a-z]+:/i.test(ref) && !base) return null;
      if (!base) return null; // a relative $ref with no base URI: an inline schema cannot be resolved
      const url = new URL(ref, base).href;
      if (/^https?:\/\/json-schema\.org\//.test(url)) continue;
      if (found.has(url) || embedded.has(url) || url === new URL(base).href) continue;
      const rel = /^[a-z]+:/i.test(ref) ? new URL(ref).pathname.split("/").pop()! : ref;
      const candidates = [resolve(dirname(path), rel), resolve(dirname(path), `${rel}.json`)];
      const target = candidates.find((c) => existsSync(c) && statSync(c).isFile());
      if (!target) return null;
      found.set(url, target);
      const parsed = JSON.parse(readFileSync(target, "utf8"));
      for (const id of idsOf(parsed, url)) embedded.add(id);
      queue.push([parsed, target, url]);
    }
  }
  return found;
}

interface Written {
  folder: string;
  kind: string;
  documents: number;
  note?: string;
}

function write(
  folder: string,
  pkg: ReturnType<typeof unpack>,
  entry: SchemaEntry,
  extra: Map<string, ShippedDocs[]>,
): Written | string {
  const file = join(pkg.dir, entry.path);
  const text = readFileSync(file, "utf8");
  const schema = JSON.parse(text);
  const refFiles = bundle(schema, file);
  if (!refFiles) return `${folder}: a $ref that cannot be bundled (no base URI, or outside the package)`;
  const dir = join(OUT, folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "valid"), { recursive: true });
  mkdirSync(join(dir, "invalid"), { recursive: true });
  writeFileSync(join(dir, "schema.json"), text);
  const refs: Record<string, unknown> = {};
  if (refFiles.size) {
    mkdirSync(join(dir, "refs"));
    const map: Record<string, string> = {};
    for (const [url, path] of refFiles) {
      const name = `refs/${relative(pkg.dir, path).replace(/\//g, "__")}`;
      cpSync(path, join(dir, name));
      map[url] = name;
      refs[url] = JSON.parse(readFileSync(path, "utf8"));
    }
    writeFileSync(join(dir, "refs.json"), `${JSON.stringify(map, null, 2)}\n`);
  }
  const sources = [`${pkg.name}@${pkg.version} ${entry.path} (license: ${pkg.license})`];
  const notes: string[] = [];
  let documents = 0;
  const check = reference(schema, refs);
  const confirmed = (document: unknown, verdict: string) => {
    const said = [check.ajv(document), check.cfworker(document)].filter((v) => v !== "error");
    return said.length > 0 && said.every((v) => v === verdict);
  };
  const shipped = (docs: ShippedDocs[] | undefined, verdict: "valid" | "invalid") => {
    for (const doc of docs ?? []) {
      const from = doc.pkg === "self" ? null : doc.pkg ? unpack(doc.pkg) : pkg;
      const path = from ? join(from.dir, doc.path) : join(ROOT, doc.path);
      const raw = readFileSync(path, "utf8");
      const parsed = doc.jsonc ? parseJsonc(raw) : JSON.parse(raw);
      if (doc.pick && from) (doc.pick as any).dir = from.dir;
      const picked: [string, unknown][] = doc.pick
        ? doc.pick(parsed)
        : [
            [
              doc.path
                .replace(/^.*\//, "")
                .replace(/\.jsonc?$/, "")
                .replace(/^\./, ""),
              parsed,
            ],
          ];
      for (const [name, document] of picked) {
        const body = `${JSON.stringify(document, null, 2)}\n`;
        if (body.length > MAX_DOCUMENT) continue;
        if (doc.confirm && !confirmed(document, verdict)) {
          notes.push(`assembled ${verdict}/${name} dropped: no reference validator confirms it`);
          continue;
        }
        writeFileSync(join(dir, verdict, `shipped-${name}.json`), body);
        documents++;
      }
      const origin = from
        ? `${from.name}@${from.version} ${doc.path} (license: ${from.license})`
        : `this repository's ${doc.path}`;
      sources.push(`${verdict} shipped-*: ${origin}`);
    }
  };
  shipped(entry.valid, "valid");
  shipped([...(entry.invalid ?? []), ...(extra.get(folder) ?? [])], "invalid");
  for (const verdict of ["valid", "invalid"] as const) {
    for (const [name, document] of Object.entries(entry.handwritten?.[verdict] ?? {})) {
      writeFileSync(join(dir, verdict, `handwritten-${name}.json`), `${JSON.stringify(document, null, 2)}\n`);
      documents++;
    }
    if (entry.handwritten?.[verdict])
      sources.push(`${verdict} handwritten-*: written by hand for this corpus`);
  }
  const generated = generate(schema);
  let kept = 0;
  for (const [verdict, docs] of [
    ["valid", generated.valid],
    ["invalid", generated.invalid],
  ] as const) {
    for (const doc of docs) {
      // Kept when a reference confirms the intent and none contradicts it (a reference that cannot
      // compile the schema abstains).
      if (!confirmed(doc.document, verdict)) {
        notes.push(
          `generated ${verdict}/${doc.name} dropped (ajv: ${check.ajv(doc.document)}, cfworker: ${check.cfworker(doc.document)})`,
        );
        continue;
      }
      writeFileSync(
        join(dir, verdict, `generated-${doc.name}.json`),
        `${JSON.stringify(doc.document, null, 2)}\n`,
      );
      notes.push(`generated ${verdict}/${doc.name}: ${doc.note}`);
      documents++;
      kept++;
    }
  }
  writeFileSync(join(dir, "SOURCE"), `${sources.join("\n")}\n${notes.map((n) => `# ${n}`).join("\n")}\n`);
  return { folder, kind: entry.kind, documents, note: kept ? undefined : "no generated document kept" };
}

function schemasOf(entry: PackageEntry, pkg: ReturnType<typeof unpack>): SchemaEntry[] {
  const listed = entry.schemas ?? [];
  if (!entry.glob) return listed;
  const { pattern, prefix, kind, exclude } = entry.glob;
  const globbed = walk(pkg.dir)
    .sort()
    .flatMap((path) => {
      const m = pattern.exec(path);
      if (!m || exclude?.test(path)) return [];
      return [{ folder: `${prefix}${m[1]!.replace(/\//g, "-")}`, path, kind }];
    });
  return [...listed, ...globbed];
}

const written: Written[] = [];
const skipped: string[] = [];
try {
  mkdirSync(OUT, { recursive: true });
  for (const name of readdirSync(OUT)) {
    if (statSync(join(OUT, name)).isDirectory()) rmSync(join(OUT, name), { recursive: true });
  }
  for (const entry of PACKAGES) {
    const pkg = unpack(entry.spec);
    for (const schema of schemasOf(entry, pkg)) {
      const result = write(schema.folder, pkg, schema, new Map());
      if (typeof result === "string") skipped.push(result);
      else written.push(result);
      console.log(
        typeof result === "string" ? `skip ${result}` : `${result.folder}: ${result.documents} documents`,
      );
    }
  }
  for (const name of readdirSync(HANDMADE)) {
    cpSync(join(HANDMADE, name), join(OUT, name), { recursive: true });
    console.log(`${name}: hand-made`);
  }
  writeFileSync(join(OUT, "skipped.txt"), `${skipped.join("\n")}\n`);
} finally {
  if (!process.argv.includes("--keep-temp")) rmSync(tmp, { recursive: true, force: true });
}
console.log(`${written.length} schemas from npm, ${skipped.length} skipped`);
