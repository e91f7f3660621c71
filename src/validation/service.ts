/**
 * Validation as the API sells it: resolve the schema (inline, by URL or by registered name) to a compiled validator
 * through the isolate's bounded cache, parse and bound each document, validate within the
 * request's limits. Every way a request cannot get a verdict is a `ValidationRefusal` (422,
 * not billed); a verdict, valid or not, is a result.
 */

import {
  type CompiledSchema,
  type EnrichOptions,
  type SchemaWarning,
  type StepPool,
  ValidationLimitError,
  type ValidationResult,
} from "../engine";
import { BoundedLru } from "../lib/bounded-lru";
import {
  JsonTooDeep,
  PARSE_AT_ONCE_CHARS,
  parseJsonInSlices,
  parseJsonTextInSlices,
  sourceTextOf,
} from "../lib/json-slices";
import { stringifyInSlices } from "../lib/json-stringify-slices";
import { exceedsDepth, exceedsDepthSharing, exceedsUtf8Bytes } from "../lib/json-text";
import { yieldThread } from "../lib/yield-thread";
import { parseRegistryUri, type RegistryResolver, registryUri } from "../registry/resolver";
import type { SchemaId } from "../registry/store";
import { capErrorBytes } from "./error-bytes";
import { inlineSchemaKeys, LARGE_SCHEMA_BYTES } from "./inline-schema-keys";
import type { ValidationLimits } from "./limits";
import { addPositions } from "./positions";
import { schemaTooDeep, ValidationRefusal } from "./refusal";
import { compileWithinLimits, unavailable } from "./schema-compilation";
import type { SchemaFetcher } from "./schema-fetcher";
import { SchemaFetchError } from "./schema-fetcher";
import { strictRefusal } from "./schema-warnings";

export { DEFAULT_VALIDATION_LIMITS, type ValidationLimits } from "./limits";
export { type RefusalCode, ValidationRefusal } from "./refusal";

export type DocumentInput = { data: unknown } | { json: string };
export type SchemaInput =
  | { schema: unknown }
  | { schemaUrl: string }
  | { schemaId: { account: string; id: SchemaId } };

export interface ValidationRequest {
  schema: SchemaInput;
  documents: DocumentInput[];
  output: "flag" | "basic" | "detailed";
  formatAssertion: boolean;
  enrich: boolean | EnrichOptions;
  /** "strict": only the declared draft's keywords; "compatible" (default) adds later-draft ones it leaves free. */
  dialect?: "compatible" | "strict";
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

/** Work after which a batch hands the thread back before its next document (about 5 ms here). */
const YIELD_AFTER_STEPS = 50_000;

export function createValidationService(deps: {
  fetchSchema: SchemaFetcher;
  limits: ValidationLimits;
  cache: SchemaCacheOptions;
  /** Registered schemas (`schema_id`); without it, validation by id is refused. */
  registry?: RegistryResolver;
}) {
  const { fetchSchema, limits } = deps;
  const compiled = new BoundedLru<CompiledSchema>(deps.cache.maxEntries, deps.cache.maxBytes);
  const inlineKeysOf = inlineSchemaKeys({
    maxEntries: deps.cache.maxEntries,
    maxSchemaBytes: limits.maxSchemaBytes,
    maxDepth: limits.maxDepth,
  });

  const tooDeep = (what: string) => schemaTooDeep(what, limits.maxDepth);
  const compile = (schema: unknown, options: Parameters<typeof compileWithinLimits>[1]) =>
    compileWithinLimits(schema, options, { fetchSchema, limits });

  /** What a registered schema of `account` references by registry URI; undefined for other URIs. */
  const registeredFor =
    (account: string) =>
    (uri: string): Promise<unknown> | undefined => {
      const registry = deps.registry;
      if (!registry || !uri.startsWith("urn:schema-meter:")) return undefined;
      return (async () => {
        const ref = parseRegistryUri(uri);
        if (!ref) {
          throw new ValidationRefusal(
            "SCHEMA_UNRESOLVABLE",
            `${uri} is not a registry reference: write urn:schema-meter:schema:<name>@<version>, with the version.`,
            { ref: uri },
          );
        }
        const pointer = await registry.pointer(account, ref);
        return parseRegistered(await registry.document(account, pointer), ref.name);
      })();
    };

  async function parseRegistered(text: string, name: string): Promise<unknown> {
    try {
      const document = await parseJsonInSlices(text, limits);
      if (await exceedsDepthSharing(document, limits.maxDepth))
        throw tooDeep(`The registered schema ${name}`);
      return document;
    } catch (error) {
      if (error instanceof JsonTooDeep) throw tooDeep(`The registered schema ${name}`);
      throw error;
    }
  }

  /** The compiled validator for the request's schema, from the cache when the same schema was seen. */
  async function resolveSchema(
    input: SchemaInput,
    formatAssertion: boolean,
    strictDialect: boolean,
  ): Promise<CompiledSchema> {
    if ("schemaId" in input) {
      const { account, id } = input.schemaId;
      if (!deps.registry) throw new Error("validation by schema_id without a registry");
      const pointer = await deps.registry.pointer(account, id);
      // Versions are immutable: the key is the version's identity, the hash a guard against reuse.
      const key = `id:${account}/${pointer.name}@${pointer.version}|${pointer.content_hash}|${formatAssertion}|${strictDialect}`;
      const hit = compiled.get(key);
      if (hit) return hit;
      const body = await parseRegistered(await deps.registry.document(account, pointer), pointer.name);
      const validator = await compile(body, {
        formatAssertion,
        strictDialect,
        baseUri: registryUri(pointer.name, pointer.version),
        registered: registeredFor(account),
      });
      compiled.set(key, validator, validator.retainedBytes);
      // Compiling and validating are each one stretch of synchronous work: not one after the other.
      await yieldThread();
      return validator;
    }
    if ("schemaUrl" in input) {
      let fetched: Awaited<ReturnType<SchemaFetcher>>;
      try {
        fetched = await fetchSchema(input.schemaUrl);
      } catch (error) {
        if (error instanceof SchemaFetchError) throw unavailable(input.schemaUrl, error);
        if (error instanceof JsonTooDeep) throw tooDeep("The schema");
        throw error;
      }
      const key = `url:${fetched.url}|${fetched.version}|${formatAssertion}|${strictDialect}`;
      const hit = compiled.get(key);
      if (hit) return hit;
      if (await exceedsDepthSharing(fetched.body, limits.maxDepth)) throw tooDeep("The schema");
      // The URL is the document's retrieval URI: its relative $refs resolve against it.
      const validator = await compile(fetched.body, { formatAssertion, strictDialect, baseUri: fetched.url });
      compiled.set(key, validator, validator.retainedBytes);
      await yieldThread();
      return validator;
    }
    const keys = await inlineKeysOf(input.schema);
    const compatibleKey = formatAssertion ? keys.assert : keys.annotate;
    // Strict requests are rare: their key is built per request rather than memoised.
    const key = strictDialect ? `strict|${compatibleKey}` : compatibleKey;
    const hit = compiled.get(key);
    if (hit) return hit;
    // Keying a large schema (stringify, canonical text) is a stretch of its own before compiling.
    if (keys.canonicalBytes > LARGE_SCHEMA_BYTES) await yieldThread();
    const validator = await compile(input.schema, { formatAssertion, strictDialect });
    // The key is the canonical text (UTF-16: two bytes a character).
    compiled.set(key, validator, validator.retainedBytes + 2 * keys.canonicalBytes);
    await yieldThread();
    return validator;
  }

  /** A document's value and the characters of JSON text it took to check it (for pausing). */
  async function documentValue(input: DocumentInput, index: number, batch: boolean) {
    const where = batch ? `Document ${index}` : "The document";
    const tooDeepDocument = () =>
      new ValidationRefusal("LIMIT_EXCEEDED", `${where} is nested deeper than ${limits.maxDepth} levels.`, {
        limit: "max_depth",
        ...(batch && { index }),
      });
    if ("json" in input) {
      const value = await parseDocumentText(input.json, where, index, batch, tooDeepDocument);
      return { value, chars: input.json.length };
    }
    // One size limit whichever way the document is sent: `data` is measured by its JSON text.
    let text: string | undefined;
    try {
      // Its text as sent (a large body's), when that is within the limit: never shorter than
      // JSON.stringify's, so the document is; otherwise written, in slices, to be measured.
      const sent = sourceTextOf(input.data);
      // A document not parsed in slices (every small body's) is one JSON.stringify, no await.
      if (sent === undefined) text = JSON.stringify(input.data);
      else
        text = exceedsUtf8Bytes(sent, limits.maxDocumentBytes) ? await stringifyInSlices(input.data) : sent;
    } catch {
      // Nesting too deep to stringify: refused by the depth check below.
    }
    if (text !== undefined && exceedsUtf8Bytes(text, limits.maxDocumentBytes))
      throw tooLarge(where, index, batch);
    // Bounded here, whatever the schema descends into: deep nesting costs memory and stack elsewhere too.
    if (exceedsDepth(input.data, limits.maxDepth)) throw tooDeepDocument();
    return { value: input.data, chars: text?.length ?? 0 };
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

  async function parseDocumentText(
    json: string,
    where: string,
    index: number,
    batch: boolean,
    tooDeepDocument: () => ValidationRefusal,
  ): Promise<unknown> {
    if (exceedsUtf8Bytes(json, limits.maxDocumentBytes)) throw tooLarge(where, index, batch);
    const parsed = await parseJsonTextInSlices(json, limits.maxDepth);
    if (parsed.ok && exceedsDepth(parsed.value, limits.maxDepth)) throw tooDeepDocument();
    if (!parsed.ok && "tooDeep" in parsed) throw tooDeepDocument();
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

  const service = {
    /**
     * Checks a schema about to be registered as `name@version` of `account`: its metaschema, and
     * that its references resolve (registry references included), and with `strict` that it has no
     * warnings. Throws the ValidationRefusal a validation by it would; answers its warnings;
     * compiles without caching (publishing is rare).
     */
    async checkRegisteredSchema(
      schema: unknown,
      target: { account: string; name: string; version: number; strict: boolean },
    ): Promise<{ warnings: SchemaWarning[]; warningsTruncated?: true }> {
      const { account, name, version } = target;
      if (await exceedsDepthSharing(schema, limits.maxDepth)) throw tooDeep("The schema");
      const validator = await compile(schema, {
        formatAssertion: false,
        strictDialect: false,
        baseUri: registryUri(name, version),
        registered: registeredFor(account),
      });
      if (target.strict && validator.warnings.length > 0) throw strictRefusal(validator);
      return {
        warnings: [...validator.warnings],
        ...(validator.warningsTruncated && { warningsTruncated: true as const }),
      };
    },

    /** Validates every document against the schema: the results in the documents' order, with the schema's warnings. */
    async check(request: ValidationRequest): Promise<Verdicts> {
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
      // Their texts can add up to the whole body: the thread is handed over between stretches.
      const documents: unknown[] = [];
      let chars = 0;
      for (const [index, input] of request.documents.entries()) {
        const checked = await documentValue(input, index, batch);
        documents.push(checked.value);
        chars += checked.chars;
        if (chars > PARSE_AT_ONCE_CHARS) {
          chars = 0;
          await yieldThread();
        }
      }
      const validator = await resolveSchema(
        request.schema,
        request.formatAssertion,
        request.dialect === "strict",
      );
      if (request.strict && validator.warnings.length > 0) throw strictRefusal(validator);
      // One CPU budget per request, a pool its documents spend from in turn (a small document
      // leaves the rest to the next); between documents that did real work the isolate's thread is
      // handed back, so a batch never holds it longer than one document's share.
      const pool: StepPool = { remaining: limits.maxSteps };
      const share = (bytes: number) => Math.floor(bytes / Math.max(1, documents.length));
      const results: ValidationResult[] = [];
      for (const [index, document] of documents.entries()) {
        // A document's validation cannot pause: its share of the pool is bounded by
        // maxDocumentSteps, so other requests on the isolate never wait longer than that.
        const allotted = Math.min(pool.remaining, limits.maxDocumentSteps);
        const stretch: StepPool = { remaining: allotted };
        try {
          results.push(
            capErrorBytes(
              validateOne(document, index, stretch, share(limits.maxEnrichmentBytes)),
              share(limits.maxErrorBytes),
            ),
          );
        } finally {
          pool.remaining -= allotted - stretch.remaining;
        }
        if (index < documents.length - 1 && allotted - stretch.remaining >= YIELD_AFTER_STEPS)
          await yieldThread();
      }
      const verdicts: Verdicts = { results };
      if (validator.warnings.length > 0) verdicts.warnings = [...validator.warnings];
      if (validator.warningsTruncated) verdicts.warningsTruncated = true;
      return verdicts;

      function validateOne(document: unknown, index: number, pool: StepPool, maxEnrichmentBytes: number) {
        try {
          const result = validator.validate(document, {
            output: request.output,
            maxErrors: limits.maxErrors,
            maxDepth: limits.maxDepth,
            pool,
            enrich: request.enrich,
            maxEnrichmentBytes,
          });
          // With `json` text, every error also says where its instance starts (computed only then).
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
      }
    },

    /** Validates every document against the schema; results in the documents' order. */
    async validate(request: ValidationRequest): Promise<ValidationResult[]> {
      return (await service.check(request)).results;
    },
  };
  return service;
}

export type ValidationService = ReturnType<typeof createValidationService>;
