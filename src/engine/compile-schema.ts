import { CompiledSchema } from "./compiled-schema";
import { Compiler } from "./compiler";
import type { Node } from "./context";
import { SchemaError } from "./errors";
import { isObject } from "./json";
import { Loader } from "./loader";
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
import { PLACEHOLDER_BASE } from "./uri";

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
  /** Base URI of a schema without an absolute `$id`. Default a placeholder (PLACEHOLDER_BASE), which
   * errors show as a relative reference (`#/properties/id`). */
  baseUri?: string;
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
      const errors = "errors" in r ? (r.errors ?? []) : [];
      const problem = explainSchemaErrors(errors);
      throw new SchemaError(
        "invalid_schema",
        problem?.message ?? "the schema is invalid against its metaschema",
        errors,
        undefined,
        problem,
      );
    }
  }
  const base = opts.baseUri ?? PLACEHOLDER_BASE;
  const added = reg.addDocument(schema, base, dialect);
  await loader.loadReferenced(dialect);
  const compiler = new Compiler(reg, { formatAssertion: opts.formatAssertion === true });
  const doc = reg.resources.get(normalizeId(base))?.document;
  if (!doc) throw new SchemaError("invalid_schema", "schema could not be registered");
  const rootRes = reg.resourceAt(doc, "");
  let root: Node;
  try {
    root = compiler.node({ document: doc, pointer: "", schema, resource: rootRes });
  } catch (e) {
    if (e instanceof RangeError)
      throw new SchemaError("unsupported", "schema nesting is too deep to compile");
    throw e;
  }
  const footprint = { nodes: compiler.nodeCount, documentBytes: reg.documentBytes };
  // The schema's own document only (remote ones may not be the caller's to fix); metaschemas none.
  const { warnings, truncated } =
    opts.validateSchema !== false ? schemaWarnings(added) : { warnings: [], truncated: false };
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
