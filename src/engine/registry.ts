import { RESOURCE_KEYWORDS } from "./dialects/resource-keywords";
import type { Draft } from "./draft";
import { SchemaError } from "./errors";
import { isObject, type JsonObject, walkPointer } from "./json";
import {
  ALL_VOCABS,
  type Dialect,
  knownDraft,
  normalizeId,
  standardDialect,
  type Vocabularies,
} from "./standard-dialects";
import {
  ARRAY_OF_SCHEMAS,
  ARRAY_OF_SCHEMAS_BITS,
  DEPENDENCIES_BIT,
  ITEMS_BIT,
  OBJECT_OF_SCHEMAS,
  OBJECT_OF_SCHEMAS_BITS,
  SINGLE_SCHEMA,
  SINGLE_SCHEMA_BITS,
  SUBSCHEMA_BITS,
} from "./subschema-keywords";
import { escapePointerToken, resolveUri, splitFragment } from "./uri";

export type { Draft } from "./draft";
export {
  BUNDLED,
  type Dialect,
  DRAFT_URIS,
  knownDraft,
  normalizeId,
  standardDialect,
  type Vocabularies,
} from "./standard-dialects";

/** A JSON document holding schemas (the root schema, a remote, a bundled metaschema). */
export interface SchemaDocument {
  readonly id: number;
  readonly root: unknown;
  /** Resource of every scanned subschema, by JSON Pointer from the document root. */
  readonly resourceByPointer: Map<string, Resource>;
  /** Its one resource when no subschema opens another (then known without a pointer lookup), else null. */
  singleResource: Resource | null;
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

/** Work (subschemas scanned and found) between two pauses of addDocumentSharing: a few ms here. */
const SCAN_SLICE = 2_000;

/** A subschema to scan, with the resource it is in. */
interface ScanItem {
  schema: unknown;
  ptr: string;
  parent: Resource;
  isDocRoot: boolean;
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

  /**
   * `measure`: a document's JSON text length, when the caller knows it without writing it again;
   * `memberKeys`: an object's keys (as Object.keys lists them) when the caller knows them without
   * enumerating it.
   */
  constructor(
    private readonly measure: (document: unknown) => number | undefined = () => undefined,
    readonly memberKeys: (object: object) => readonly string[] | undefined = () => undefined,
  ) {}

  /** Object.keys of a schema's object, without enumerating one whose keys are known. */
  keysOf(object: object): readonly string[] {
    return this.memberKeys(object) ?? Object.keys(object);
  }

  /** Adds a document: registers its resources and anchors. `schemas`, when given, receives the
   * subschema at each pointer scanned (as `resourceByPointer` lists them, parents first). */
  addDocument(root: unknown, uri: string, dialect: Dialect, schemas?: Map<string, unknown>): SchemaDocument {
    const { doc, scan } = this.startDocument(root, uri, dialect, schemas);
    scan(Number.POSITIVE_INFINITY);
    return doc;
  }

  /**
   * addDocument in slices of about SCAN_SLICE subschemas, awaiting `pause` between them: scanning a
   * document of 90,000 subschemas at once is a stretch of 50 ms or more.
   */
  async addDocumentSharing(
    root: unknown,
    uri: string,
    dialect: Dialect,
    pause?: () => Promise<void>,
    schemas?: Map<string, unknown>,
  ): Promise<SchemaDocument> {
    const { doc, scan } = this.startDocument(root, uri, dialect, schemas);
    while (!scan(SCAN_SLICE)) await pause?.();
    return doc;
  }

  /** A document registered, and its scan: each call does up to `work` more, true when done. */
  private startDocument(root: unknown, uri: string, dialect: Dialect, schemas?: Map<string, unknown>) {
    const doc: SchemaDocument = {
      id: this.nextDocId++,
      root,
      resourceByPointer: new Map(),
      singleResource: null,
    };
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
    doc.singleResource = res;
    // Depth first, each subschema before its children, in keyword order (the first `$id` wins).
    const pending: ScanItem[] = [{ schema: root, ptr: "", parent: res, isDocRoot: true }];
    const scan = (work: number): boolean => {
      for (let done = 0; done < work; ) {
        const item = pending.pop();
        if (item === undefined) return true;
        done += this.scan(doc, item, pending, schemas);
      }
      return pending.length === 0;
    };
    return { doc, scan };
  }

  /** Registers one subschema and puts its subschemas on `pending`; its work: 1 + their number. */
  private scan(
    doc: SchemaDocument,
    item: ScanItem,
    pending: ScanItem[],
    schemas: Map<string, unknown> | undefined,
  ): number {
    const { schema, ptr, parent, isDocRoot } = item;
    schemas?.set(ptr, schema);
    if (!isObject(schema)) {
      doc.resourceByPointer.set(ptr, parent);
      return 1;
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
        doc.singleResource = null;
        if (!this.resources.has(base)) this.resources.set(base, res);
        if (parentKeywords.fragmentAnchors && frag !== "" && !frag.startsWith("/")) {
          this.anchors.set(`${base}#${frag}`, { document: doc, pointer: ptr, schema, resource: res });
        }
      }
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
    if (present === 0) return 1;
    // Pushed in keyword order, then turned round: `pending` is popped last first.
    const first = pending.length;
    const sub = (value: unknown, p: string): void => {
      pending.push({ schema: value, ptr: p, parent: res, isDocRoot: false });
    };
    for (let n = 0; n < OBJECT_OF_SCHEMAS.length; n++) {
      if ((present & (OBJECT_OF_SCHEMAS_BITS[n] as number)) === 0) continue;
      const kw = OBJECT_OF_SCHEMAS[n] as string;
      const v = schema[kw];
      if (isObject(v)) for (const k of this.keysOf(v)) sub(v[k], `${ptr}/${kw}/${escapePointerToken(k)}`);
    }
    if ((present & DEPENDENCIES_BIT) !== 0 && isObject(schema.dependencies)) {
      const deps = schema.dependencies;
      for (const k of Object.keys(deps)) {
        if (!Array.isArray(deps[k])) sub(deps[k], `${ptr}/dependencies/${escapePointerToken(k)}`);
      }
    }
    for (let n = 0; n < SINGLE_SCHEMA.length; n++) {
      if ((present & (SINGLE_SCHEMA_BITS[n] as number)) === 0) continue;
      const kw = SINGLE_SCHEMA[n] as string;
      sub(schema[kw], `${ptr}/${kw}`);
    }
    for (let n = 0; n < ARRAY_OF_SCHEMAS.length; n++) {
      if ((present & (ARRAY_OF_SCHEMAS_BITS[n] as number)) === 0) continue;
      const kw = ARRAY_OF_SCHEMAS[n] as string;
      const v = schema[kw];
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) sub(v[i], `${ptr}/${kw}/${i}`);
    }
    if ((present & ITEMS_BIT) !== 0) {
      const items = schema.items;
      if (Array.isArray(items)) for (let i = 0; i < items.length; i++) sub(items[i], `${ptr}/items/${i}`);
      else if (items !== undefined) sub(items, `${ptr}/items`);
    }
    for (let i = first, j = pending.length - 1; i < j; i++, j--) {
      const swap = pending[i] as ScanItem;
      pending[i] = pending[j] as ScanItem;
      pending[j] = swap;
    }
    return 1 + pending.length - first;
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
