import { COMPILE_BYTES_PER_UNIT, CompileBudget, METASCHEMA_CHECK_MAX_UNITS } from "./compile-budget";
import { CompiledSchema } from "./compiled-schema";
import { Compiler } from "./compiler";
import type { Node } from "./context";
import { RESOURCE_KEYWORDS } from "./dialects/resource-keywords";
import { SchemaError } from "./errors";
import { isObject } from "./json";
import { Loader } from "./loader";
import { checkAgainstMetaschema } from "./metaschema-check";
import { memoiseSubschemaVerdicts } from "./metaschema-memo";
import {
  BUNDLED,
  type Dialect,
  type Draft,
  knownDraft,
  normalizeId,
  Registry,
  standardDialect,
} from "./registry";
import { explainSchemaErrors } from "./schema-problem";
import { schemaWarnings } from "./schema-warnings";
import { PLACEHOLDER_BASE, resolveUri, splitFragment } from "./uri";

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
  /**
   * Retrieval URI of the schema (a `schema_url`'s URL). Default: the root's `$id` (`id` in draft-04)
   * resolved against the placeholder PLACEHOLDER_BASE, else that placeholder itself (errors show
   * locations under it as references relative to the schema: `#/properties/id`). The root
   * `$id` counts even beside a `$ref` in drafts 4-7 (where it is otherwise ignored): for a schema
   * sent inline it is the only retrieval URI its author can mean.
   */
  baseUri?: string;
  /** Awaited between the phases of a compilation (metaschema check, registration, building), each
   * a stretch of synchronous work: a server hands its thread to other requests there. */
  pause?: () => Promise<void>;
  /**
   * A document's JSON text length when the caller has it (a multi-MB schema parsed from a text it
   * still holds): writing such a document again to measure it is a long stretch. Default: written.
   */
  measureDocument?: (document: unknown) => number | undefined;
  /**
   * An object's keys, as Object.keys lists them, when the caller has them (an object of a multi-MB
   * text parsed in slices): enumerating an object of 90,000 members is a long stretch, and such an
   * object is then checked against its metaschema in slices. Default: none (enumerated).
   */
  memberKeys?: (object: object) => readonly string[] | undefined;
  /** Only the declared draft's keywords: no later-draft ones (dialects/later-keywords.ts). Default false. */
  strictDialect?: boolean;
  /** Work units the compilation may spend (the metaschema check, each subschema, the bytes of its
   * documents); more throws ValidationLimitError("budget"). Default: no limit. */
  maxSteps?: number;
  /** Largest compiled weight (CompiledSchema.retainedBytes); more throws
   * ValidationLimitError("compiled_schema_bytes") before it is allocated. Default: no limit. */
  maxRetainedBytes?: number;
}

/** The retrieval URI an inline schema's root `$id` (draft-04: `id`) names, if it has one. */
function rootIdBase(schema: unknown, dialect: Dialect): string | undefined {
  if (!isObject(schema)) return undefined;
  const id = schema[RESOURCE_KEYWORDS[dialect.draft].id];
  if (typeof id !== "string" || id === "" || id.startsWith("#")) return undefined;
  return normalizeId(splitFragment(resolveUri(PLACEHOLDER_BASE, id))[0]);
}

const metaschemaCache = new Map<string, Promise<CompiledSchema>>();

async function metaschemaFor(
  dialect: Dialect,
  loader: Loader,
  budget: CompileBudget,
): Promise<CompiledSchema> {
  const uri = dialect.metaschema;
  const standard = knownDraft(uri) !== undefined;
  if (standard) {
    let p = metaschemaCache.get(uri);
    if (!p) {
      p = compileSchema(BUNDLED.get(uri), { validateSchema: false }).then((meta) => {
        memoiseSubschemaVerdicts(meta.rootNode());
        return meta;
      });
      metaschemaCache.set(uri, p);
      p.catch(() => metaschemaCache.delete(uri));
    }
    return p;
  }
  // A custom metaschema comes with the request (fetched like any remote): compiling it spends from
  // the same budget as the schema's own compilation.
  const doc = await loader.fetchDoc(uri);
  return compileWithin(
    doc,
    { validateSchema: false, baseUri: uri, resolveRemote: (u) => loader.fetchDoc(u) },
    budget,
  );
}

/**
 * Compiles a schema: checks it against its metaschema, loads remote references, builds the
 * validator. Throws SchemaError (`invalid_schema`, `unresolvable_ref`, `unsupported`).
 */
export function compileSchema(schema: unknown, opts: CompileOptions = {}): Promise<CompiledSchema> {
  const budget = new CompileBudget(
    opts.maxSteps ?? Number.POSITIVE_INFINITY,
    opts.maxRetainedBytes ?? Number.POSITIVE_INFINITY,
  );
  return compileWithin(schema, opts, budget);
}

async function compileWithin(
  schema: unknown,
  opts: CompileOptions,
  budget: CompileBudget,
): Promise<CompiledSchema> {
  if (typeof schema !== "boolean" && !isObject(schema)) {
    throw new SchemaError("invalid_schema", "a schema must be an object or a boolean");
  }
  const reg = new Registry(opts.measureDocument, opts.memberKeys);
  const loader = new Loader(reg, opts.resolveRemote);
  const fallback = standardDialect(DIALECT_NAMES[opts.defaultDialect ?? "draft-2020-12"]);
  const dialect =
    isObject(schema) && typeof schema.$schema === "string" ? await loader.dialect(schema.$schema) : fallback;
  if (opts.validateSchema !== false) {
    const meta = await metaschemaFor(dialect, loader, budget);
    await opts.pause?.();
    // flag mode first (no allocation, its units counted); the located errors only when the schema is invalid
    const check = await checkAgainstMetaschema(meta, schema, {
      maxUnits: Math.min(budget.remaining, METASCHEMA_CHECK_MAX_UNITS),
      standard: knownDraft(dialect.metaschema) !== undefined,
      memberKeys: opts.memberKeys,
      pause: opts.pause,
    });
    budget.spend(check.steps);
    const r = check.valid
      ? { valid: true }
      : meta.validate(schema, { output: "basic", maxErrors: 20, maxSteps: budget.maxSteps });
    if (!r.valid) {
      const errors = "errors" in r ? (r.errors ?? []) : [];
      const problem = explainSchemaErrors(errors);
      throw new SchemaError(
        "invalid_schema",
        problem?.message ?? "the schema is invalid against its metaschema",
        errors,
        undefined,
        undefined,
        problem,
      );
    }
  }
  await opts.pause?.();
  const base = opts.baseUri ?? rootIdBase(schema, dialect) ?? PLACEHOLDER_BASE;
  // The subschemas the scan finds, for the warnings: kept for this compilation only.
  const scanned = new Map<string, unknown>();
  const added = await reg.addDocumentSharing(schema, base, dialect, opts.pause, scanned);
  await loader.loadReferenced(dialect);
  budget.spend(Math.ceil(reg.documentBytes / COMPILE_BYTES_PER_UNIT));
  budget.checkWeight(0, reg.documentBytes);
  await opts.pause?.();
  const compiler = new Compiler(reg, {
    formatAssertion: opts.formatAssertion === true,
    laterKeywords: opts.strictDialect !== true,
    budget,
  });
  const doc = reg.resources.get(normalizeId(base))?.document;
  if (!doc) throw new SchemaError("invalid_schema", "schema could not be registered");
  const rootRes = reg.resourceAt(doc, "");
  let root: Node;
  try {
    root = compiler.node({ document: doc, pointer: "", schema, resource: rootRes });
    await compiler.build(opts.pause);
  } catch (e) {
    if (e instanceof RangeError)
      throw new SchemaError("unsupported", "schema nesting is too deep to compile");
    throw e;
  }
  const footprint = { nodes: compiler.nodeCount, documentBytes: reg.documentBytes };
  // The schema's own document only (remote ones may not be the caller's to fix); metaschemas none.
  const { warnings, truncated } =
    opts.validateSchema !== false
      ? schemaWarnings(added, scanned, { laterKeywords: opts.strictDialect !== true })
      : { warnings: [], truncated: false };
  return new CompiledSchema(
    root,
    rootRes.dialect.draft,
    rootRes.uri,
    compiler.tracksEvaluation,
    footprint,
    warnings,
    truncated,
  );
}
