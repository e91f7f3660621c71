import { type Node, STOP, spendFromContext, type ValidationContext } from "./context";
import { type EnrichOptions, enrichDocument, type LocationAnnotations } from "./enrich";
import { ValidationLimitError } from "./errors";
import { countBasic, type OutputUnit, type RawUnit, toBasic, toDetailed } from "./output";
import type { Draft } from "./registry";
import type { SchemaWarning } from "./schema-warnings";

/** Options of `CompiledSchema.validate`. */
export interface ValidateOptions {
  /** JSON Schema 2020-12 §12 output format. Default "basic". "flag" stops at the first error. */
  output?: "flag" | "basic" | "detailed";
  /** Maximum errors reported; more set `truncated`. Default 100. */
  maxErrors?: number;
  /** Maximum document nesting the schema descends into; deeper throws ValidationLimitError. Default 64. */
  maxDepth?: number;
  /** The work budget: units of subschema evaluations, elements scanned, regex steps and output units;
   * more throws ValidationLimitError("budget"). Default 1,000,000. This is the budget that holds in
   * Workers, where clocks do not advance during synchronous work. */
  maxSteps?: number;
  /** A budget shared by several validations (the documents of one request, each pass of
   * enrichment): each spends from what is `remaining` and leaves the rest; overrides maxSteps. */
  pool?: StepPool;
  /** Wall-clock budget in ms, checked every 1024 steps (effective in Node). Default: none. */
  budgetMs?: number;
  /** For valid documents: return an enriched copy and annotations. Never changes the verdict. */
  enrich?: boolean | EnrichOptions;
  /** Most JSON bytes enrichment adds (filled defaults plus annotations); more set
   * `enrichmentTruncated`. Default 256 KiB. */
  maxEnrichmentBytes?: number;
}

/** Work units left to a request, spent by every validation handed it. */
export interface StepPool {
  remaining: number;
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
  /** Enrichment: defaults or annotations were left out at `maxEnrichmentBytes`. */
  enrichmentTruncated?: boolean;
}

/** Default of `ValidateOptions.maxEnrichmentBytes`. */
export const DEFAULT_MAX_ENRICHMENT_BYTES = 256 * 1024;

function newContext(full: boolean, annotate: boolean, opts: ValidateOptions, root: Node): ValidationContext {
  const maxSteps = opts.pool ? opts.pool.remaining : (opts.maxSteps ?? 1_000_000);
  return {
    full,
    track: full || annotate,
    annotate,
    errors: [],
    errorCount: 0,
    maxErrors: opts.maxErrors ?? 100,
    speculative: 0,
    instancePath: [],
    frame: { prefix: "", base: 0 },
    dynamicScope: [root.resource],
    evaluated: null,
    steps: 0,
    nextCheck: Math.min(1024, maxSteps + 1),
    maxSteps,
    deadline: opts.budgetMs !== undefined ? performance.now() + opts.budgetMs : 0,
    depth: 0,
    maxDepth: opts.maxDepth ?? 64,
    annotations: [],
    spend: spendFromContext,
    units: 0,
    errorsDropped: false,
  };
}

function run(
  root: Node,
  instance: unknown,
  context: ValidationContext,
  pool: StepPool | undefined,
): { valid: boolean; truncated: boolean } {
  try {
    return { valid: root.validate(instance, context), truncated: false };
  } catch (e) {
    if (e === STOP) return { valid: false, truncated: true };
    if (e instanceof RangeError) {
      throw new ValidationLimitError(
        "budget",
        "schema recursion too deep (reference loop)",
        context.maxDepth,
      );
    }
    throw e;
  } finally {
    if (pool) pool.remaining = Math.max(0, pool.remaining - context.steps);
  }
}

/**
 * Heap a compiled schema retains, measured with node --expose-gc on the worst shapes we could build
 * (test/unit/schema-cache-weight.test.ts fills the cache with them and checks the heap): per compiled
 * subschema 590 (anyOf of consts) to 3,400 bytes (properties with three keywords each), and per byte
 * of JSON text of its documents (remote ones included) up to 6 (large enums); rounded up, so the
 * weight never underestimates.
 */
export const RETAINED_BYTES_PER_NODE = 3500;
export const RETAINED_BYTES_PER_DOCUMENT_BYTE = 8;

/** What a compilation produced, for the cache's weight. */
export interface Footprint {
  nodes: number;
  documentBytes: number;
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
    /** Subschemas compiled and JSON bytes of the documents, remote ones included. */
    readonly footprint: Footprint = { nodes: 1, documentBytes: 0 },
    /** What in the schema is valid but likely a mistake; computed once, at compile time. */
    readonly warnings: readonly SchemaWarning[] = [],
    /** More than MAX_WARNINGS warnings were found. */
    readonly warningsTruncated = false,
  ) {
    Object.freeze(this.warnings);
    Object.freeze(this);
  }

  /** Heap this validator retains, in bytes (the compiled-schema cache's weight). */
  get retainedBytes(): number {
    return (
      this.footprint.nodes * RETAINED_BYTES_PER_NODE +
      this.footprint.documentBytes * RETAINED_BYTES_PER_DOCUMENT_BYTE
    );
  }

  /** Validates a document. Throws ValidationLimitError when a limit is exceeded. */
  validate(instance: unknown, opts: ValidateOptions = {}): ValidationResult {
    const output = opts.output ?? "basic";
    const context = newContext(output !== "flag", false, opts, this.root);
    const { valid, truncated } = run(this.root, instance, context, opts.pool);
    const result: ValidationResult = { valid };
    if (output === "detailed") {
      result.keywordLocation = "";
      result.instanceLocation = "";
    }
    if (!valid && output !== "flag") {
      const errs = context.errors as RawUnit[];
      if (output === "basic") {
        result.errors = toBasic(errs, context.maxErrors, instance);
        if (truncated || result.errors.length >= context.maxErrors)
          result.truncated = truncated || countBasic(errs, context.maxErrors + 1) > context.maxErrors;
      } else {
        result.errors = toDetailed(errs, instance);
        if (truncated) result.truncated = true;
      }
      if (context.errorsDropped) result.truncated = true;
    }
    if (valid && opts.enrich) this.enrich(instance, opts, result);
    return result;
  }

  /**
   * @internal The flag verdict and the work units it took, for a compilation's metaschema check,
   * which spends from the compilation's own budget. Throws ValidationLimitError past `maxSteps`.
   */
  checkCounted(instance: unknown, maxSteps: number): { valid: boolean; steps: number } {
    const context = newContext(false, false, { maxSteps }, this.root);
    const { valid } = run(this.root, instance, context, undefined);
    return { valid, steps: context.steps };
  }

  /** @internal The root node, for the memo of a standard metaschema's verdicts (metaschema-memo.ts). */
  rootNode(): Node {
    return this.root;
  }

  private enrich(instance: unknown, opts: ValidateOptions, result: ValidationResult): void {
    const parts: EnrichOptions = opts.enrich === true ? {} : opts.enrich || {};
    const context = newContext(false, true, opts, this.root);
    run(this.root, instance, context, opts.pool);
    const maxBytes = opts.maxEnrichmentBytes ?? DEFAULT_MAX_ENRICHMENT_BYTES;
    const enriched = enrichDocument(instance, context.annotations, parts, maxBytes);
    result.data = enriched.data;
    if (enriched.annotations) result.annotations = enriched.annotations;
    if (enriched.truncated) result.enrichmentTruncated = true;
  }
}
