import { RESOURCE_KEYWORDS } from "./dialects/resource-keywords";
import type { Draft } from "./draft";
import { SchemaError } from "./errors";
import { isObject, type JsonObject, walkPointer } from "./json";
import { draft04 } from "./metaschemas/draft-04";
import { draft06 } from "./metaschemas/draft-06";
import { draft07 } from "./metaschemas/draft-07";
import { draft2019_09 } from "./metaschemas/draft-2019-09";
import { draft2020_12 } from "./metaschemas/draft-2020-12";
import {
  ARRAY_OF_SCHEMAS,
  bitOf,
  OBJECT_OF_SCHEMAS,
  SINGLE_SCHEMA,
  SUBSCHEMA_BITS,
} from "./subschema-keywords";
import { escapePointerToken, resolveUri, splitFragment } from "./uri";

export type { Draft } from "./draft";

/** Which vocabularies are active for a schema resource (2019-09 and later; all on for older drafts). */
export interface Vocabularies {
  applicator: boolean;
  unevaluated: boolean;
  validation: boolean;
  format: boolean;
  formatAssertion: boolean;
  content: boolean;
  metaData: boolean;
}

/** A dialect: the draft plus its vocabularies and the metaschema that describes it. */
export interface Dialect {
  draft: Draft;
  vocab: Vocabularies;
  metaschema: string;
}

const ALL_VOCABS: Vocabularies = {
  applicator: true,
  unevaluated: true,
  validation: true,
  format: true,
  formatAssertion: false,
  content: true,
  metaData: true,
};

/** Canonical metaschema URIs of the supported drafts. */
export const DRAFT_URIS: Record<Draft, string> = {
  4: "http://json-schema.org/draft-04/schema",
  6: "http://json-schema.org/draft-06/schema",
  7: "http://json-schema.org/draft-07/schema",
  2019: "https://json-schema.org/draft/2019-09/schema",
  2020: "https://json-schema.org/draft/2020-12/schema",
};

/**
 * `$schema` spellings real schemas use for the standard drafts besides the canonical ones: the other
 * scheme (`https://json-schema.org/draft-07/schema`, as TypeDoc writes it), and the bare
 * `http://json-schema.org/schema` of Angular, Nx and NestJS schematics. That URI once served the
 * newest draft, which was draft-07 when those schemas were written; their authors validate them
 * with draft-07 semantics, so they are read as draft-07.
 */
const DRAFT_URI_ALIASES: Record<string, Draft> = {
  "https://json-schema.org/draft-04/schema": 4,
  "https://json-schema.org/draft-06/schema": 6,
  "https://json-schema.org/draft-07/schema": 7,
  "http://json-schema.org/draft/2019-09/schema": 2019,
  "http://json-schema.org/draft/2020-12/schema": 2020,
  "http://json-schema.org/schema": 7,
  "https://json-schema.org/schema": 7,
};

const KNOWN_DIALECTS = new Map<string, Draft>([
  ...(Object.entries(DRAFT_URIS) as Array<[string, string]>).map(
    ([d, u]) => [u, Number(d) as Draft] as const,
  ),
  ...Object.entries(DRAFT_URI_ALIASES),
]);

/** Every bundled metaschema document, by URI. */
export const BUNDLED: ReadonlyMap<string, unknown> = new Map<string, unknown>(
  Object.entries({ ...draft04, ...draft06, ...draft07, ...draft2019_09, ...draft2020_12 }),
);

/** Strips an empty fragment: `http://x/schema#` and `http://x/schema` name the same resource. */
export function normalizeId(uri: string): string {
  return uri.endsWith("#") ? uri.slice(0, -1) : uri;
}

/** The known draft for a `$schema` URI, or undefined. */
export function knownDraft(uri: string): Draft | undefined {
  return KNOWN_DIALECTS.get(normalizeId(uri));
}

/** The standard dialect of a draft. */
export function standardDialect(draft: Draft): Dialect {
  return { draft, vocab: ALL_VOCABS, metaschema: DRAFT_URIS[draft] };
}

/** A JSON document holding schemas (the root schema, a remote, a bundled metaschema). */
export interface SchemaDocument {
  readonly id: number;
  readonly root: unknown;
  /** Resource of every scanned subschema, by JSON Pointer from the document root. */
  readonly resourceByPointer: Map<string, Resource>;
}

/** A schema resource: a subschema with its own base URI (`$id`, or a document root). */
export interface Resource {
  readonly uri: string;
  readonly document: SchemaDocument;
  /** JSON Pointer of the resource root within its document. */
  readonly pointer: string;
  readonly dialect: Dialect;
  /** `$dynamicAnchor` names (2020-12) to document pointers. */
  readonly dynamicAnchors: Map<string, string>;
  /** `$recursiveAnchor: true` at the resource root (2019-09). */
  recursiveAnchor: boolean;
}

/** A located subschema. */
export interface SchemaTarget {
  readonly document: SchemaDocument;
  readonly pointer: string;
  readonly schema: unknown;
  readonly resource: Resource;
}

/**
 * Every schema resource, anchor and reference of the documents loaded for one compilation.
 * Loading is async (remote documents, custom metaschemas); everything after is synchronous.
 */
export class Registry {
  readonly resources = new Map<string, Resource>();
  readonly anchors = new Map<string, SchemaTarget>();
  /** Absolute reference URIs (no fragment) seen while scanning. */
  readonly refBases = new Set<string>();
  /** Dialects of custom metaschemas, by URI. */
  readonly dialects = new Map<string, Dialect>();
  /** Why a remote document could not be fetched, by URI. */
  readonly failures = new Map<string, string>();
  hasDynamicRefs = false;
  hasUnevaluated = false;
  /** JSON text length of every document added (remote ones included): what compiled closures retain. */
  documentBytes = 0;
  private nextDocId = 0;

  /** `measure`: a document's JSON text length, when the caller knows it without writing it again. */
  constructor(private readonly measure: (document: unknown) => number | undefined = () => undefined) {}

  /** Adds a document: registers its resources and anchors. `schemas`, when given, receives the
   * subschema at each pointer scanned (as `resourceByPointer` lists them, parents first). */
  addDocument(root: unknown, uri: string, dialect: Dialect, schemas?: Map<string, unknown>): SchemaDocument {
    const doc: SchemaDocument = { id: this.nextDocId++, root, resourceByPointer: new Map() };
    this.documentBytes += this.measure(root) ?? JSON.stringify(root)?.length ?? 0;
    const res: Resource = {
      uri: normalizeId(splitFragment(uri)[0]),
      document: doc,
      pointer: "",
      dialect,
      dynamicAnchors: new Map(),
      recursiveAnchor: false,
    };
    if (!this.resources.has(res.uri)) this.resources.set(res.uri, res);
    this.scan(doc, root, "", res, true, schemas);
    return doc;
  }

  private scan(
    doc: SchemaDocument,
    schema: unknown,
    ptr: string,
    parent: Resource,
    isDocRoot: boolean,
    schemas: Map<string, unknown> | undefined,
  ): void {
    schemas?.set(ptr, schema);
    if (!isObject(schema)) {
      doc.resourceByPointer.set(ptr, parent);
      return;
    }
    let res = parent;
    const parentKeywords = RESOURCE_KEYWORDS[parent.dialect.draft];
    const idValue = schema[parentKeywords.id];
    const legacyRef = parentKeywords.refOverridesSiblings && typeof schema.$ref === "string";
    if (typeof idValue === "string" && !legacyRef) {
      const abs = resolveUri(parent.uri, idValue);
      const [base, frag] = splitFragment(abs);
      if (parentKeywords.fragmentAnchors && idValue.startsWith("#")) {
        if (frag !== "" && !frag.startsWith("/")) {
          this.anchors.set(`${parent.uri}#${frag}`, {
            document: doc,
            pointer: ptr,
            schema,
            resource: parent,
          });
        }
      } else if (base !== parent.uri || !isDocRoot) {
        let dialect = parent.dialect;
        if (typeof schema.$schema === "string") {
          const d = knownDraft(schema.$schema);
          dialect = d ? standardDialect(d) : (this.dialects.get(normalizeId(schema.$schema)) ?? dialect);
        }
        res = {
          uri: base,
          document: doc,
          pointer: ptr,
          dialect,
          dynamicAnchors: new Map(),
          recursiveAnchor: false,
        };
        if (!this.resources.has(base)) this.resources.set(base, res);
        if (parentKeywords.fragmentAnchors && frag !== "" && !frag.startsWith("/")) {
          this.anchors.set(`${base}#${frag}`, { document: doc, pointer: ptr, schema, resource: res });
        }
      }
    }
    if (isDocRoot && res === parent) {
      // the document root is a resource even without $id
    }
    doc.resourceByPointer.set(ptr, res);
    const keywords = RESOURCE_KEYWORDS[res.dialect.draft];
    if (keywords.anchor && typeof schema.$anchor === "string") {
      this.anchors.set(`${res.uri}#${schema.$anchor}`, {
        document: doc,
        pointer: ptr,
        schema,
        resource: res,
      });
    }
    if (keywords.dynamicAnchor && typeof schema.$dynamicAnchor === "string") {
      const key = `${res.uri}#${schema.$dynamicAnchor}`;
      if (!this.anchors.has(key))
        this.anchors.set(key, { document: doc, pointer: ptr, schema, resource: res });
      if (!res.dynamicAnchors.has(schema.$dynamicAnchor)) res.dynamicAnchors.set(schema.$dynamicAnchor, ptr);
    }
    if (keywords.recursiveAnchor && schema.$recursiveAnchor === true && res.pointer === ptr)
      res.recursiveAnchor = true;
    if (typeof schema.$ref === "string")
      this.refBases.add(splitFragment(resolveUri(res.uri, schema.$ref))[0]);
    if (keywords.dynamicAnchor && typeof schema.$dynamicRef === "string") {
      this.hasDynamicRefs = true;
      this.refBases.add(splitFragment(resolveUri(res.uri, schema.$dynamicRef))[0]);
    }
    if (keywords.recursiveAnchor && typeof schema.$recursiveRef === "string") this.hasDynamicRefs = true;
    if (keywords.unevaluated && ("unevaluatedProperties" in schema || "unevaluatedItems" in schema))
      this.hasUnevaluated = true;

    // Which subschema keywords the schema has, from its own keys (a few) rather than by looking
    // each of the twenty-odd up; they are then scanned in the fixed order below.
    let present = 0;
    for (const key in schema) present |= SUBSCHEMA_BITS.get(key) ?? 0;
    if (present === 0) return;
    const sub = (value: unknown, p: string): void => this.scan(doc, value, p, res, false, schemas);
    for (const kw of OBJECT_OF_SCHEMAS) {
      if ((present & bitOf(kw)) === 0) continue;
      const v = schema[kw];
      if (isObject(v)) for (const k of Object.keys(v)) sub(v[k], `${ptr}/${kw}/${escapePointerToken(k)}`);
    }
    if ((present & bitOf("dependencies")) !== 0 && isObject(schema.dependencies)) {
      const deps = schema.dependencies;
      for (const k of Object.keys(deps)) {
        if (!Array.isArray(deps[k])) sub(deps[k], `${ptr}/dependencies/${escapePointerToken(k)}`);
      }
    }
    for (const kw of SINGLE_SCHEMA) if ((present & bitOf(kw)) !== 0) sub(schema[kw], `${ptr}/${kw}`);
    for (const kw of ARRAY_OF_SCHEMAS) {
      if ((present & bitOf(kw)) === 0) continue;
      const v = schema[kw];
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) sub(v[i], `${ptr}/${kw}/${i}`);
    }
    if ((present & bitOf("items")) === 0) return;
    const items = schema.items;
    if (Array.isArray(items)) for (let i = 0; i < items.length; i++) sub(items[i], `${ptr}/items/${i}`);
    else if (items !== undefined) sub(items, `${ptr}/items`);
  }

  /** The resource that contains the subschema at `ptr` of `doc`. */
  resourceAt(doc: SchemaDocument, ptr: string): Resource {
    let p = ptr;
    for (;;) {
      const r = doc.resourceByPointer.get(p);
      if (r) return r;
      if (p === "") break;
      p = p.slice(0, p.lastIndexOf("/"));
    }
    throw new SchemaError("unresolvable_ref", `no resource contains ${ptr}`);
  }

  /** Resolves an absolute URI (with optional fragment) to a subschema, or undefined. */
  lookup(abs: string): SchemaTarget | undefined {
    const [base, fragRaw] = splitFragment(abs);
    let frag: string;
    try {
      frag = decodeURIComponent(fragRaw);
    } catch {
      return undefined;
    }
    if (frag === "" || frag.startsWith("/")) {
      const res = this.resources.get(base);
      if (!res) return undefined;
      const resSchema = walkPointer(res.document.root, res.pointer).value;
      const w = walkPointer(resSchema, frag);
      if (!w.found) return undefined;
      const ptr = res.pointer + frag;
      return {
        document: res.document,
        pointer: ptr,
        schema: w.value,
        resource: this.resourceAt(res.document, ptr),
      };
    }
    return this.anchors.get(`${base}#${frag}`);
  }

  /** The dialect a document's root declares with `$schema` (known or already loaded), or the default. */
  dialectOf(root: unknown, fallback: Dialect): Dialect {
    if (!isObject(root) || typeof root.$schema !== "string") return fallback;
    const d = knownDraft(root.$schema);
    if (d) return standardDialect(d);
    return this.dialects.get(normalizeId(root.$schema)) ?? fallback;
  }
}

// 2019-09 had no separate unevaluated vocabulary: its applicator vocabulary held unevaluated*.
const VOCAB_PREFIXES: Array<{ prefix: string; applicatorHasUnevaluated: boolean }> = [
  { prefix: "https://json-schema.org/draft/2020-12/vocab/", applicatorHasUnevaluated: false },
  { prefix: "https://json-schema.org/draft/2019-09/vocab/", applicatorHasUnevaluated: true },
];

/** Derives the dialect a custom metaschema defines, from its `$vocabulary` and `$schema`. */
export function dialectFromMetaschema(uri: string, meta: JsonObject): Dialect {
  let draft: Draft = 2020;
  if (typeof meta.$schema === "string") draft = knownDraft(meta.$schema) ?? 2020;
  const vocabDecl = meta.$vocabulary;
  if (!isObject(vocabDecl) || !RESOURCE_KEYWORDS[draft].vocabularies)
    return { draft, vocab: ALL_VOCABS, metaschema: uri };
  const vocab: Vocabularies = {
    applicator: false,
    unevaluated: false,
    validation: false,
    format: false,
    formatAssertion: false,
    content: false,
    metaData: false,
  };
  for (const [v, required] of Object.entries(vocabDecl)) {
    const prefix = VOCAB_PREFIXES.find((p) => v.startsWith(p.prefix));
    const name = prefix ? v.slice(prefix.prefix.length) : undefined;
    switch (name) {
      case "core":
        break;
      case "applicator":
        vocab.applicator = true;
        if (prefix?.applicatorHasUnevaluated) vocab.unevaluated = true;
        break;
      case "unevaluated":
        vocab.unevaluated = true;
        break;
      case "validation":
        vocab.validation = true;
        break;
      case "format":
      case "format-annotation":
        vocab.format = true;
        break;
      case "format-assertion":
        vocab.format = true;
        vocab.formatAssertion = true;
        break;
      case "content":
        vocab.content = true;
        break;
      case "meta-data":
        vocab.metaData = true;
        break;
      default:
        if (required === true) {
          throw new SchemaError("unsupported", `metaschema ${uri} requires unknown vocabulary ${v}`);
        }
    }
  }
  return { draft, vocab, metaschema: uri };
}
