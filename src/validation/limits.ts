import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_COMPILE_STEPS,
  DEFAULT_MAX_COMPILED_SCHEMA_BYTES,
  DEFAULT_MAX_DOCUMENT_STEPS,
  DEFAULT_MAX_ERROR_BYTES,
  DEFAULT_MAX_REMOTE_DOCUMENTS,
  DEFAULT_MAX_REMOTE_SCHEMA_BYTES,
  DEFAULT_MAX_VALIDATION_STEPS,
} from "../config";
import { DEFAULT_MAX_ENRICHMENT_BYTES } from "../engine";

/** Limits of one request; each is configurable and each refusal names the limit. */
export interface ValidationLimits {
  /** Largest document, in bytes: `json` text as UTF-8, `data` by its JSON text. Default 100 kB. */
  maxDocumentBytes: number;
  /** Largest inline schema (canonical JSON), in bytes. Default the body limit, 4 MiB. */
  maxSchemaBytes: number;
  /** Deepest document or schema nesting. Default 64. */
  maxDepth: number;
  /** Errors reported per document before `truncated`. Default 100. */
  maxErrors: number;
  /** Work units per request, shared by its documents in turn (the CPU budget; Workers' clocks stand
   * still while computing). Default 400,000. */
  maxSteps: number;
  /** Work units one document may spend of maxSteps: one document's validation is one stretch of
   * the isolate's thread, which other requests wait for. Default 200,000. */
  maxDocumentSteps: number;
  /** Work units compiling a schema may spend, apart from maxSteps. Default 2,000,000. */
  maxCompileSteps: number;
  /** Documents per batch. Default 100. */
  maxBatchDocuments: number;
  /** Remote documents one schema may pull in through `$ref`. Default 50. */
  maxRemoteDocuments: number;
  /** Bytes of JSON text of those remote documents, together. Default 4 MiB. */
  maxRemoteSchemaBytes: number;
  /** Largest compiled schema by its measured weight (CompiledSchema.retainedBytes). Default 64 MiB. */
  maxCompiledSchemaBytes: number;
  /** JSON bytes enrichment may add per request (defaults filled plus annotations), shared by its
   * documents; more set `enrichmentTruncated`. Default 256 KiB. */
  maxEnrichmentBytes: number;
  /** JSON bytes of a verdict's errors per request, shared by its documents; more set `truncated`.
   * Default 128 KiB. */
  maxErrorBytes: number;
}

export const DEFAULT_VALIDATION_LIMITS: ValidationLimits = {
  maxDocumentBytes: 100_000,
  maxSchemaBytes: DEFAULT_MAX_BODY_BYTES,
  maxDepth: 64,
  maxErrors: 100,
  maxSteps: DEFAULT_MAX_VALIDATION_STEPS,
  maxDocumentSteps: DEFAULT_MAX_DOCUMENT_STEPS,
  maxCompileSteps: DEFAULT_MAX_COMPILE_STEPS,
  maxBatchDocuments: 100,
  maxRemoteDocuments: DEFAULT_MAX_REMOTE_DOCUMENTS,
  maxRemoteSchemaBytes: DEFAULT_MAX_REMOTE_SCHEMA_BYTES,
  maxCompiledSchemaBytes: DEFAULT_MAX_COMPILED_SCHEMA_BYTES,
  maxEnrichmentBytes: DEFAULT_MAX_ENRICHMENT_BYTES,
  maxErrorBytes: DEFAULT_MAX_ERROR_BYTES,
};
