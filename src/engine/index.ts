// The validation engine: an eval-free JSON Schema validator (draft-04 to 2020-12).
//
//   const compiled = await compileSchema(schema, { resolveRemote, formatAssertion });
//   const result = compiled.validate(document, { output: "basic", enrich: true });
//
// compileSchema is async (it may fetch remote $refs and custom metaschemas through `resolveRemote`);
// validate is synchronous and a CompiledSchema is immutable, so one can be cached and shared.

import { type Annotation, Compiler, type Ctx, type Node, STOP } from "./compile";
import { SchemaError, ValidationLimitError } from "./errors";
import { FORMAT_CHECKS, normalizeFormat } from "./formats";
import { isObject } from "./json";
import { type OutputUnit, type RawUnit, toBasic, toDetailed } from "./output";
import {
  BUNDLED,
  type Dialect,
  type Draft,
  dialectFromMetaschema,
  knownDraft,
  normalizeId,
  Registry,
  standardDialect,
} from "./registry";
import { escapePointerToken, hasScheme } from "./uri";

export { type LimitKind, SchemaError, type SchemaErrorKind, ValidationLimitError } from "./errors";
export { canonicalJson, jsonEqual } from "./json";
export type { OutputUnit } from "./output";
export type { Draft } from "./registry";

/** Dialect names accepted by `defaultDialect`. */
export type DialectName = "draft-04" | "draft-06" | "draft-07" | "draft-2019-09" | "draft-2020-12";

const DIALECT_NAMES: Record<DialectName, Draft> = {
  "draft-04": 4,
  "draft-06": 6,
  "draft-07": 7,
  "draft-2019-09": 2019,
  "draft-2020-12": 2020,
};

/** Options of `compileSchema`. */
export interface CompileOptions {
  /** Fetches a remote schema by absolute URI (no fragment). Default: none (remote refs fail). */
  resolveRemote?: (uri: string) => Promise<unknown>;
  /** Assert `format` instead of treating it as an annotation. Default false (per 2020-12). */
  formatAssertion?: boolean;
  /** Dialect of a schema without `$schema`. Default "draft-2020-12". */
  defaultDialect?: DialectName;
  /** Validate the schema against its metaschema first. Default true. */
  validateSchema?: boolean;
  /** Base URI of a schema without an absolute `$id`. Default "https://schema-meter.invalid/schema". */
  baseUri?: string;
}

/** Which parts of enrichment to produce; each defaults to true when enrichment is on. */
export interface EnrichOptions {
  /** Fill absent properties that have a `default`. */
  defaults?: boolean;
  /** Normalise formatted strings (date-time to UTC `Z`, e-mail domain and URI scheme/host lower-cased). */
  formats?: boolean;
  /** Collect title, description, deprecated, readOnly, writeOnly, examples per instance location. */
  annotations?: boolean;
}

/** Options of `CompiledSchema.validate`. */
export interface ValidateOptions {
  /** JSON Schema 2020-12 §12 output format. Default "basic". "flag" stops at the first error. */
  output?: "flag" | "basic" | "detailed";
  /** Maximum errors reported; more set `truncated`. Default 100. */
  maxErrors?: number;
  /** Maximum document nesting the schema descends into; deeper throws ValidationLimitError. Default 64. */
  maxDepth?: number;
  /** Maximum schema evaluations (steps); more throws ValidationLimitError. Default 1,000,000. This is
   * the budget that holds in Workers, where clocks do not advance during synchronous work. */
  maxSteps?: number;
  /** Wall-clock budget in ms, checked every 1024 steps (effective in Node). Default: none. */
  budgetMs?: number;
  /** For valid documents: return an enriched copy and annotations. Never changes the verdict. */
  enrich?: boolean | EnrichOptions;
}

/** Annotations collected for one instance location. */
export interface LocationAnnotations {
  title?: string;
  description?: string;
  default?: unknown;
  deprecated?: boolean;
  readOnly?: boolean;
  writeOnly?: boolean;
  examples?: unknown[];
}

/** The result of a validation. */
export interface ValidationResult {
  valid: boolean;
  /** basic: flat list; detailed: hierarchy. Absent in flag mode and when valid. */
  errors?: OutputUnit[];
  /** detailed only: the root unit's locations. */
  keywordLocation?: string;
  instanceLocation?: string;
  /** More errors existed than were reported (maxErrors). */
  truncated?: boolean;
  /** Enrichment (valid documents only): the document with defaults and normalised formats. */
  data?: unknown;
  /** Enrichment: annotations by instance location (JSON Pointer). */
  annotations?: Record<string, LocationAnnotations>;
}

const DEFAULT_BASE = "https://schema-meter.invalid/schema";

class Loader {
  private readonly fetched = new Map<string, Promise<unknown>>();
  constructor(
    readonly reg: Registry,
    private readonly resolveRemote: CompileOptions["resolveRemote"],
  ) {}

  /** Fetches a document (bundled metaschema or remote). Undefined when unavailable. */
  fetchDoc(uri: string): Promise<unknown> {
    const key = normalizeId(uri);
    let p = this.fetched.get(key);
    if (!p) {
      const bundled = BUNDLED.get(key);
      if (bundled !== undefined) p = Promise.resolve(bundled);
      else if (!this.resolveRemote || !hasScheme(key)) p = Promise.resolve(undefined);
      else {
        const resolve = this.resolveRemote;
        p = (async () => {
          try {
            return await resolve(key);
          } catch (e) {
            this.reg.failures.set(key, e instanceof Error ? e.message : String(e));
            return undefined;
          }
        })();
      }
      this.fetched.set(key, p);
    }
    return p;
  }

  /** The dialect a `$schema` URI names; loads custom metaschemas. */
  async dialect(schemaUri: string): Promise<Dialect> {
    const d = knownDraft(schemaUri);
    if (d) return standardDialect(d);
    const key = normalizeId(schemaUri);
    const cached = this.reg.dialects.get(key);
    if (cached) return cached;
    const meta = await this.fetchDoc(key);
    if (!isObject(meta)) throw new SchemaError("unsupported", `unknown $schema ${JSON.stringify(schemaUri)}`);
    const dialect = dialectFromMetaschema(key, meta);
    this.reg.dialects.set(key, dialect);
    return dialect;
  }

  async addDocument(root: unknown, uri: string, fallback: Dialect): Promise<void> {
    const dialect =
      isObject(root) && typeof root.$schema === "string" ? await this.dialect(root.$schema) : fallback;
    this.reg.addDocument(root, uri, dialect);
  }

  /** Loads every document referenced (transitively). */
  async loadReferenced(fallback: Dialect): Promise<void> {
    const tried = new Set<string>();
    for (;;) {
      const pending = [...this.reg.refBases].filter((u) => !this.reg.resources.has(u) && !tried.has(u));
      if (pending.length === 0) return;
      for (const u of pending) tried.add(u);
      const docs = await Promise.all(pending.map((u) => this.fetchDoc(u)));
      for (let i = 0; i < pending.length; i++) {
        const doc = docs[i];
        const uri = pending[i] as string;
        if (doc !== undefined && !this.reg.resources.has(uri)) await this.addDocument(doc, uri, fallback);
      }
    }
  }
}

const metaschemaCache = new Map<string, Promise<CompiledSchema>>();

async function metaschemaFor(dialect: Dialect, loader: Loader): Promise<CompiledSchema> {
  const uri = dialect.metaschema;
  const standard = knownDraft(uri) !== undefined;
  if (standard) {
    let p = metaschemaCache.get(uri);
    if (!p) {
      p = compileSchema(BUNDLED.get(uri), { validateSchema: false });
      metaschemaCache.set(uri, p);
      p.catch(() => metaschemaCache.delete(uri));
    }
    return p;
  }
  const doc = await loader.fetchDoc(uri);
  return compileSchema(doc, {
    validateSchema: false,
    baseUri: uri,
    resolveRemote: (u) => loader.fetchDoc(u),
  });
}

/**
 * Compiles a schema: checks it against its metaschema, loads remote references, builds the
 * validator. Throws SchemaError (`invalid_schema`, `unresolvable_ref`, `unsupported`).
 */
export async function compileSchema(schema: unknown, opts: CompileOptions = {}): Promise<CompiledSchema> {
  if (typeof schema !== "boolean" && !isObject(schema)) {
    throw new SchemaError("invalid_schema", "a schema must be an object or a boolean");
  }
  const reg = new Registry();
  const loader = new Loader(reg, opts.resolveRemote);
  const fallback = standardDialect(DIALECT_NAMES[opts.defaultDialect ?? "draft-2020-12"]);
  const dialect =
    isObject(schema) && typeof schema.$schema === "string" ? await loader.dialect(schema.$schema) : fallback;
  if (opts.validateSchema !== false) {
    const meta = await metaschemaFor(dialect, loader);
    // flag mode first (no allocation); the located errors only when the schema is invalid
    const r = meta.validate(schema, { output: "flag" }).valid
      ? { valid: true }
      : meta.validate(schema, { output: "basic", maxErrors: 20 });
    if (!r.valid) {
      throw new SchemaError(
        "invalid_schema",
        "the schema is invalid against its metaschema",
        "errors" in r ? (r.errors ?? []) : [],
      );
    }
  }
  const base = opts.baseUri ?? DEFAULT_BASE;
  reg.addDocument(schema, base, dialect);
  await loader.loadReferenced(dialect);
  const compiler = new Compiler(reg, { formatAssertion: opts.formatAssertion === true });
  const doc = reg.resources.get(normalizeId(base))?.doc;
  if (!doc) throw new SchemaError("invalid_schema", "schema could not be registered");
  const rootRes = reg.resourceAt(doc, "");
  let root: Node;
  try {
    root = compiler.node({ doc, ptr: "", schema, res: rootRes });
  } catch (e) {
    if (e instanceof RangeError)
      throw new SchemaError("unsupported", "schema nesting is too deep to compile");
    throw e;
  }
  return new CompiledSchema(root, rootRes.dialect.draft, rootRes.uri, compiler.trackEval);
}

function newCtx(full: boolean, annotate: boolean, opts: ValidateOptions, root: Node): Ctx {
  const maxSteps = opts.maxSteps ?? 1_000_000;
  return {
    full,
    track: full || annotate,
    annotate,
    errors: [],
    errCount: 0,
    maxErrors: opts.maxErrors ?? 100,
    spec: 0,
    ipath: [],
    frame: { prefix: "", base: 0 },
    dyn: [root.res],
    ev: null,
    steps: 0,
    nextCheck: Math.min(1024, maxSteps + 1),
    maxSteps,
    deadline: opts.budgetMs !== undefined ? performance.now() + opts.budgetMs : 0,
    depth: 0,
    maxDepth: opts.maxDepth ?? 64,
    anns: [],
  };
}

function run(root: Node, instance: unknown, ctx: Ctx): { valid: boolean; truncated: boolean } {
  try {
    return { valid: root.v(instance, ctx), truncated: false };
  } catch (e) {
    if (e === STOP) return { valid: false, truncated: true };
    if (e instanceof RangeError) {
      throw new ValidationLimitError("budget", "schema recursion too deep (reference loop)", ctx.maxDepth);
    }
    throw e;
  }
}

/** A compiled, immutable, reusable validator. */
export class CompiledSchema {
  /** @internal */
  constructor(
    private readonly root: Node,
    /** Draft of the root schema. */
    readonly draft: Draft,
    /** Base URI of the root schema. */
    readonly uri: string,
    /** Whether validation tracks evaluated properties/items (the schema uses unevaluated*). */
    readonly tracksEvaluation: boolean,
  ) {
    Object.freeze(this);
  }

  /** Validates a document. Throws ValidationLimitError when a limit is exceeded. */
  validate(instance: unknown, opts: ValidateOptions = {}): ValidationResult {
    const output = opts.output ?? "basic";
    const ctx = newCtx(output !== "flag", false, opts, this.root);
    const { valid, truncated } = run(this.root, instance, ctx);
    const result: ValidationResult = { valid };
    if (output === "detailed") {
      result.keywordLocation = "";
      result.instanceLocation = "";
    }
    if (!valid && output !== "flag") {
      const errs = ctx.errors as RawUnit[];
      if (output === "basic") {
        result.errors = toBasic(errs, ctx.maxErrors);
        if (truncated || result.errors.length >= ctx.maxErrors)
          result.truncated = truncated || toBasic(errs, ctx.maxErrors + 1).length > ctx.maxErrors;
      } else {
        result.errors = toDetailed(errs);
        if (truncated) result.truncated = true;
      }
    }
    if (valid && opts.enrich) this.enrich(instance, opts, result);
    return result;
  }

  private enrich(instance: unknown, opts: ValidateOptions, result: ValidationResult): void {
    const parts: EnrichOptions = opts.enrich === true ? {} : opts.enrich || {};
    const ctx = newCtx(false, true, opts, this.root);
    run(this.root, instance, ctx);
    const data = cloneJson(instance);
    const anns = ctx.anns;
    if (parts.defaults !== false) {
      for (const a of anns) {
        if (a.keyword !== "default" || a.property === undefined) continue;
        const target = getAt(data, a.instancePath);
        if (isObject(target) && !Object.hasOwn(target, a.property)) target[a.property] = cloneJson(a.value);
      }
    }
    if (parts.formats !== false) {
      for (const a of anns) {
        if (a.keyword !== "format" || typeof a.value !== "string") continue;
        const v = getAt(data, a.instancePath);
        const check = FORMAT_CHECKS[a.value];
        if (typeof v !== "string" || !check || !check(v)) continue;
        const norm = normalizeFormat(a.value, v);
        if (norm !== v) setAt(data, a.instancePath, norm);
      }
    }
    result.data = data;
    if (parts.annotations !== false) result.annotations = groupAnnotations(anns);
  }
}

function groupAnnotations(anns: Annotation[]): Record<string, LocationAnnotations> {
  const out: Record<string, LocationAnnotations> = {};
  for (const a of anns) {
    if (a.keyword === "format" || a.property !== undefined) continue;
    const key = a.instancePath.map((p) => `/${typeof p === "number" ? p : escapePointerToken(p)}`).join("");
    const entry = out[key] ?? {};
    out[key] = entry;
    switch (a.keyword) {
      case "title":
        if (entry.title === undefined && typeof a.value === "string") entry.title = a.value;
        break;
      case "description":
        if (entry.description === undefined && typeof a.value === "string") entry.description = a.value;
        break;
      case "default":
        if (!("default" in entry)) entry.default = a.value;
        break;
      case "deprecated":
      case "readOnly":
      case "writeOnly":
        if (a.value === true) entry[a.keyword] = true;
        break;
      case "examples":
        if (Array.isArray(a.value)) entry.examples = [...(entry.examples ?? []), ...a.value];
        break;
    }
  }
  return out;
}

function cloneJson(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = cloneJson((v as Record<string, unknown>)[k]);
  return out;
}

function getAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = root;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === "number") cur = cur[p];
    else if (isObject(cur) && typeof p === "string") cur = cur[p];
    else return undefined;
  }
  return cur;
}

function setAt(root: unknown, path: ReadonlyArray<string | number>, value: unknown): void {
  if (path.length === 0) return;
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === "number") parent[last] = value;
  else if (isObject(parent) && typeof last === "string") parent[last] = value;
}
