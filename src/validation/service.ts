/**
 * Validation as the API sells it: resolve the schema (inline or by URL) to a compiled validator
 * through the isolate's bounded cache, parse and bound each document, validate within the
 * request's limits. Every way a request cannot get a verdict is a `ValidationRefusal` (422,
 * not billed); a verdict, valid or not, is a result.
 */

import {
  type CompiledSchema,
  canonicalJson,
  compileSchema,
  DEFAULT_MAX_ENRICHMENT_BYTES,
  type EnrichOptions,
  SchemaError,
  type SchemaWarning,
  ValidationLimitError,
  type ValidationResult,
} from "../engine";
import { BoundedLru } from "../lib/bounded-lru";
import { exceedsDepth, exceedsUtf8Bytes, parseJsonText } from "../lib/json-text";
import { addPositions } from "./positions";
import type { SchemaFetcher } from "./schema-fetcher";
import { SchemaFetchError } from "./schema-fetcher";

/** Limits of one request; each is configurable and each refusal names the limit. */
export interface ValidationLimits {
  /** Largest document, in bytes: `json` text as UTF-8, `data` by its JSON text. Default 100 kB. */
  maxDocumentBytes: number;
  /** Largest inline schema (canonical JSON), in bytes. Default 256 kB. */
  maxSchemaBytes: number;
  /** Deepest document or schema nesting. Default 64. */
  maxDepth: number;
  /** Errors reported per document before `truncated`. Default 100. */
  maxErrors: number;
  /** Schema evaluations per request (the CPU budget; Workers' clocks stand still while computing). Default 2,000,000. */
  maxSteps: number;
  /** Documents per batch. Default 100. */
  maxBatchDocuments: number;
  /** Remote documents one schema may pull in through `$ref`. Default 20. */
  maxRemoteDocuments: number;
  /** JSON bytes enrichment may add per request (defaults filled plus annotations), shared by its
   * documents; more set `enrichmentTruncated`. Default 256 KiB. */
  maxEnrichmentBytes: number;
}

export const DEFAULT_VALIDATION_LIMITS: ValidationLimits = {
  maxDocumentBytes: 100_000,
  maxSchemaBytes: 256_000,
  maxDepth: 64,
  maxErrors: 100,
  maxSteps: 2_000_000,
  maxBatchDocuments: 100,
  maxRemoteDocuments: 20,
  maxEnrichmentBytes: DEFAULT_MAX_ENRICHMENT_BYTES,
};

export type RefusalCode =
  | "DOCUMENT_NOT_JSON"
  | "SCHEMA_INVALID"
  | "SCHEMA_UNRESOLVABLE"
  | "SCHEMA_UNAVAILABLE"
  | "LIMIT_EXCEEDED";

/** The request cannot get a verdict; `detail` and `extensions` are safe to show the client. */
export class ValidationRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "ValidationRefusal";
  }
}

export type DocumentInput = { data: unknown } | { json: string };
export type SchemaInput = { schema: unknown } | { schemaUrl: string };

export interface ValidationRequest {
  schema: SchemaInput;
  documents: DocumentInput[];
  output: "flag" | "basic" | "detailed";
  formatAssertion: boolean;
  enrich: boolean | EnrichOptions;
  /** Refuse a schema that has warnings (SCHEMA_INVALID) instead of validating with it. */
  strict?: boolean;
}

/** Verdicts in the documents' order, with what the schema's compilation found worth a warning. */
export interface Verdicts {
  results: ValidationResult[];
  /** Schema warnings (computed once per compiled schema); absent when there are none. */
  warnings?: SchemaWarning[];
  /** More warnings existed than are listed. */
  warningsTruncated?: true;
}

export interface SchemaCacheOptions {
  /** Compiled schemas kept per isolate. Default 500. */
  maxEntries: number;
  /** Bytes of compiled schemas kept per isolate (measured weight: CompiledSchema.retainedBytes). Default 32 MiB. */
  maxBytes: number;
}

/** Bound of the inline-schema key memo (UTF-16 bytes of its texts and keys). */
const INLINE_KEYS_MEMO_MAX_BYTES = 16 * 1024 * 1024;

/** The compiled-cache keys of one inline schema, one per `format_assertion` value. */
interface InlineSchemaKeys {
  canonicalBytes: number;
  annotate: string;
  assert: string;
}

export function createValidationService(deps: {
  fetchSchema: SchemaFetcher;
  limits: ValidationLimits;
  cache: SchemaCacheOptions;
}) {
  const { fetchSchema, limits } = deps;
  const compiled = new BoundedLru<CompiledSchema>(deps.cache.maxEntries, deps.cache.maxBytes);
  // An inline schema's cache keys by its plain JSON.stringify text: the same schema sent again (the
  // common case) costs one native stringify and one lookup instead of a depth walk, a key-sorting
  // walk and hashing a freshly built key. For a JSON value (a parsed body: no undefined, functions
  // or toJSON) equal stringify text means an equal value, so an equal canonical text; the keys are
  // the same string objects every time, so the map does not hash them again.
  const inlineKeysByText = new BoundedLru<InlineSchemaKeys>(
    deps.cache.maxEntries,
    INLINE_KEYS_MEMO_MAX_BYTES,
  );

  /** The compiled-cache keys of an inline schema, checking its depth and size the first time it is seen. */
  function inlineKeysOf(schema: unknown): InlineSchemaKeys {
    let text: string | undefined;
    try {
      text = JSON.stringify(schema);
    } catch {
      // A RangeError for nesting too deep to stringify: refused by the depth check below.
    }
    const known = text === undefined ? undefined : inlineKeysByText.get(text);
    if (known) return known;
    if (exceedsDepth(schema, limits.maxDepth)) throw schemaTooDeep("The schema");
    const canonical = canonicalJson(schema);
    if (canonical.length > limits.maxSchemaBytes) {
      throw new ValidationRefusal(
        "LIMIT_EXCEEDED",
        `The schema is larger than ${limits.maxSchemaBytes} bytes.`,
        {
          limit: "max_schema_bytes",
        },
      );
    }
    // Keyed by the canonical text itself: the Map hashes it natively, several times faster than a
    // SHA-256 digest per request, and the key's size is counted against the byte bound.
    const keys: InlineSchemaKeys = {
      canonicalBytes: canonical.length,
      annotate: `inline|false|${canonical}`,
      assert: `inline|true|${canonical}`,
    };
    if (text !== undefined) inlineKeysByText.set(text, keys, 2 * (text.length + 2 * canonical.length));
    return keys;
  }

  function schemaTooDeep(what: string): ValidationRefusal {
    return new ValidationRefusal(
      "LIMIT_EXCEEDED",
      `${what} is nested deeper than ${limits.maxDepth} levels.`,
      {
        limit: "max_depth",
      },
    );
  }

  /** A schema_url (or remote $ref) that could not be fetched: SCHEMA_UNAVAILABLE with the reason. */
  function unavailable(url: string, error: SchemaFetchError): ValidationRefusal {
    return new ValidationRefusal("SCHEMA_UNAVAILABLE", error.message, { reason: error.reason, url });
  }

  async function compile(schema: unknown, options: { formatAssertion: boolean; baseUri?: string }) {
    let remoteDocuments = 0;
    // Why a remote document was not loaded, by URI: the engine only sees "unresolvable".
    const refusedRemotes = new Map<string, ValidationRefusal>();
    try {
      return await compileSchema(schema, {
        formatAssertion: options.formatAssertion,
        baseUri: options.baseUri,
        resolveRemote: async (uri) => {
          remoteDocuments++;
          if (remoteDocuments > limits.maxRemoteDocuments) {
            const refusal = new ValidationRefusal(
              "LIMIT_EXCEEDED",
              `The schema references more than ${limits.maxRemoteDocuments} remote schemas.`,
              { limit: "max_remote_documents" },
            );
            refusedRemotes.set(uri, refusal);
            throw refusal;
          }
          try {
            const body = (await fetchSchema(uri)).body;
            // Held to the inline schema's depth limit: deeper nesting overflows the compiler's stack.
            if (exceedsDepth(body, limits.maxDepth)) {
              const refusal = schemaTooDeep(`The remote schema ${uri}`);
              refusedRemotes.set(uri, refusal);
              throw refusal;
            }
            return body;
          } catch (error) {
            if (error instanceof SchemaFetchError) refusedRemotes.set(uri, unavailable(uri, error));
            throw error;
          }
        },
      });
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      if (error.kind === "unresolvable_ref") {
        const refused = error.ref ? refusedRemotes.get(error.ref.split("#")[0] as string) : undefined;
        if (refused) throw refused;
        throw new ValidationRefusal(
          "SCHEMA_UNRESOLVABLE",
          error.message,
          error.ref ? { ref: error.ref } : {},
        );
      }
      // Where in the customer's schema, the bad value and what is allowed there; the metaschema's
      // full output stays in `errors`.
      const { message: _, ...problem } = error.problem ?? { message: "" };
      throw new ValidationRefusal("SCHEMA_INVALID", error.message, {
        ...problem,
        ...(error.errors.length && { errors: error.errors }),
      });
    }
  }

  /** The compiled validator for the request's schema, from the cache when the same schema was seen. */
  async function resolveSchema(input: SchemaInput, formatAssertion: boolean): Promise<CompiledSchema> {
    if ("schemaUrl" in input) {
      let fetched: Awaited<ReturnType<SchemaFetcher>>;
      try {
        fetched = await fetchSchema(input.schemaUrl);
      } catch (error) {
        if (error instanceof SchemaFetchError) throw unavailable(input.schemaUrl, error);
        throw error;
      }
      const key = `url:${fetched.url}|${fetched.version}|${formatAssertion}`;
      const hit = compiled.get(key);
      if (hit) return hit;
      if (exceedsDepth(fetched.body, limits.maxDepth)) throw schemaTooDeep("The schema");
      const validator = await compile(fetched.body, { formatAssertion, baseUri: fetched.url });
      compiled.set(key, validator, validator.retainedBytes);
      return validator;
    }
    const keys = inlineKeysOf(input.schema);
    const key = formatAssertion ? keys.assert : keys.annotate;
    const hit = compiled.get(key);
    if (hit) return hit;
    const validator = await compile(input.schema, { formatAssertion });
    // The key is the canonical text (UTF-16: two bytes a character).
    compiled.set(key, validator, validator.retainedBytes + 2 * keys.canonicalBytes);
    return validator;
  }

  function documentValue(input: DocumentInput, index: number, batch: boolean): unknown {
    const where = batch ? `Document ${index}` : "The document";
    const value = "data" in input ? input.data : parseDocumentText(input.json, where, index, batch);
    if ("data" in input) {
      // One size limit whichever way the document is sent: `data` is measured by its JSON text.
      let text: string | undefined;
      try {
        text = JSON.stringify(input.data);
      } catch {
        // Nesting too deep to stringify: refused by the depth check below.
      }
      if (text !== undefined && exceedsUtf8Bytes(text, limits.maxDocumentBytes))
        throw tooLarge(where, index, batch);
    }
    // Bounded here, whatever the schema descends into: deep nesting costs memory and stack elsewhere too.
    if (exceedsDepth(value, limits.maxDepth)) {
      throw new ValidationRefusal(
        "LIMIT_EXCEEDED",
        `${where} is nested deeper than ${limits.maxDepth} levels.`,
        {
          limit: "max_depth",
          ...(batch && { index }),
        },
      );
    }
    return value;
  }

  function tooLarge(where: string, index: number, batch: boolean): ValidationRefusal {
    return new ValidationRefusal(
      "LIMIT_EXCEEDED",
      `${where} is larger than ${limits.maxDocumentBytes} bytes.`,
      {
        limit: "max_document_bytes",
        ...(batch && { index }),
      },
    );
  }

  function parseDocumentText(json: string, where: string, index: number, batch: boolean): unknown {
    if (exceedsUtf8Bytes(json, limits.maxDocumentBytes)) throw tooLarge(where, index, batch);
    const parsed = parseJsonText(json);
    if (!parsed.ok) {
      const { line, column, message } = parsed.error;
      throw new ValidationRefusal(
        "DOCUMENT_NOT_JSON",
        `${where} is not JSON: ${message} at line ${line}, column ${column}.`,
        {
          line,
          column,
          ...(batch && { index }),
        },
      );
    }
    return parsed.value;
  }

  /** A strict request's refusal of a schema with warnings: SCHEMA_INVALID naming the first. */
  function strictRefusal(validator: CompiledSchema): ValidationRefusal {
    const [first] = validator.warnings;
    const count = validator.warnings.length;
    return new ValidationRefusal(
      "SCHEMA_INVALID",
      `The schema has ${count}${validator.warningsTruncated ? "+" : ""} warning${count === 1 ? "" : "s"} and "strict" is on. ` +
        `At ${first?.schemaLocation || "its root"}: ${first?.message}`,
      {
        schemaLocation: first?.schemaLocation,
        warnings: validator.warnings,
        ...(validator.warningsTruncated && { warningsTruncated: true }),
      },
    );
  }

  /** Validates every document against the schema; results in the documents' order. */
  async function check(request: ValidationRequest): Promise<Verdicts> {
    const batch = request.documents.length !== 1;
    if (request.documents.length > limits.maxBatchDocuments) {
      throw new ValidationRefusal(
        "LIMIT_EXCEEDED",
        `A batch holds at most ${limits.maxBatchDocuments} documents.`,
        {
          limit: "max_batch_documents",
        },
      );
    }
    // Parse every document first: a batch is refused whole, before any CPU goes into validation.
    const documents = request.documents.map((input, index) => documentValue(input, index, batch));
    const validator = await resolveSchema(request.schema, request.formatAssertion);
    if (request.strict && validator.warnings.length > 0) throw strictRefusal(validator);
    // One CPU budget per request, shared by its documents.
    const maxSteps = Math.max(1, Math.floor(limits.maxSteps / Math.max(1, documents.length)));
    const maxEnrichmentBytes = Math.floor(limits.maxEnrichmentBytes / Math.max(1, documents.length));
    const results = documents.map((document, index) => {
      try {
        const result = validator.validate(document, {
          output: request.output,
          maxErrors: limits.maxErrors,
          maxDepth: limits.maxDepth,
          maxSteps,
          enrich: request.enrich,
          maxEnrichmentBytes,
        });
        const input = request.documents[index];
        if (result.errors && input && "json" in input) addPositions(input.json, result.errors);
        return result;
      } catch (error) {
        if (!(error instanceof ValidationLimitError)) throw error;
        const limit = error.kind === "budget" ? "cpu_budget" : error.kind;
        const detail =
          error.kind === "max_depth"
            ? `${batch ? `Document ${index}` : "The document"} is nested deeper than ${limits.maxDepth} levels.`
            : error.kind === "regex_budget"
              ? `${error.message}; simplify the pattern.`
              : "Validation needed more work than one request may use; simplify the schema or send fewer documents.";
        throw new ValidationRefusal("LIMIT_EXCEEDED", detail, { limit, ...(batch && { index }) });
      }
    });
    const verdicts: Verdicts = { results };
    if (validator.warnings.length > 0) verdicts.warnings = [...validator.warnings];
    if (validator.warningsTruncated) verdicts.warningsTruncated = true;
    return verdicts;
  }

  return {
    /** Validates every document; the verdicts with the schema's warnings. */
    check,
    /** Validates every document against the schema; results in the documents' order. */
    async validate(request: ValidationRequest): Promise<ValidationResult[]> {
      return (await check(request)).results;
    },
  };
}

export type ValidationService = ReturnType<typeof createValidationService>;
