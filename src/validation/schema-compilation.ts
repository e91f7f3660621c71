/**
 * A schema compiled within the request's limits: remote documents by count and total bytes, the
 * compilation's work (MAX_COMPILE_STEPS, apart from validation's) and its compiled weight. Every way
 * it cannot be compiled is a ValidationRefusal naming the limit, the reference or the URL.
 */

import { type CompiledSchema, compileSchema, SchemaError, ValidationLimitError } from "../engine";
import { JsonTooDeep, memberKeysOf, sourceTextOf } from "../lib/json-slices";
import { exceedsDepthSharing } from "../lib/json-text";
import { yieldThread } from "../lib/yield-thread";
import type { ValidationLimits } from "./limits";
import { schemaTooDeep, ValidationRefusal } from "./refusal";
import { SchemaFetchError, type SchemaFetcher } from "./schema-fetcher";

/** A schema_url (or remote $ref) that could not be fetched: SCHEMA_UNAVAILABLE with the reason. */
export function unavailable(url: string, error: SchemaFetchError): ValidationRefusal {
  return new ValidationRefusal("SCHEMA_UNAVAILABLE", error.message, { reason: error.reason, url });
}

/** Compiles within the request's limits: remote documents by count and bytes, work, compiled weight. */
export async function compileWithinLimits(
  schema: unknown,
  options: {
    formatAssertion: boolean;
    strictDialect: boolean;
    baseUri?: string;
    /** Documents this compilation may take from the schema registry (a registered schema's own
     * references); undefined for a URI that is not the registry's. */
    registered?: (uri: string) => Promise<unknown> | undefined;
  },
  deps: { fetchSchema: SchemaFetcher; limits: ValidationLimits },
): Promise<CompiledSchema> {
  const { fetchSchema, limits } = deps;
  let remoteDocuments = 0;
  let remoteBytes = 0;
  // Why a remote document was not loaded, by URI: the engine only sees "unresolvable".
  const refusedRemotes = new Map<string, ValidationRefusal>();
  const refuseRemote = (uri: string, refusal: ValidationRefusal): never => {
    refusedRemotes.set(uri, refusal);
    throw refusal;
  };
  try {
    return await compileSchema(schema, {
      formatAssertion: options.formatAssertion,
      strictDialect: options.strictDialect,
      baseUri: options.baseUri,
      // The compilation has its own allotment of the work budget, so a verdict never depends on
      // whether the schema was cached; its memory is bounded before it is taken.
      maxSteps: limits.maxCompileSteps,
      maxRetainedBytes: limits.maxCompiledSchemaBytes,
      pause: yieldThread,
      // Documents parsed in slices (over 512 KiB) are measured by the text they came from.
      measureDocument: (document) => sourceTextOf(document)?.length,
      // Objects of such documents are not enumerated again (90,000 members: a long stretch).
      memberKeys: memberKeysOf,
      resolveRemote: async (uri) => {
        remoteDocuments++;
        if (remoteDocuments > limits.maxRemoteDocuments) {
          refuseRemote(
            uri,
            new ValidationRefusal(
              "LIMIT_EXCEEDED",
              `The schema references more than ${limits.maxRemoteDocuments} remote schemas.`,
              { limit: "max_remote_documents" },
            ),
          );
        }
        const fromRegistry = options.registered?.(uri);
        if (fromRegistry) {
          try {
            return await fromRegistry;
          } catch (error) {
            if (error instanceof ValidationRefusal) refusedRemotes.set(uri, error);
            throw error;
          }
        }
        try {
          const fetched = await fetchSchema(uri);
          remoteBytes += fetched.bytes;
          if (remoteBytes > limits.maxRemoteSchemaBytes) {
            refuseRemote(
              uri,
              new ValidationRefusal(
                "LIMIT_EXCEEDED",
                `The remote schemas the schema references are larger than ${limits.maxRemoteSchemaBytes} bytes together.`,
                { limit: "max_remote_schema_bytes" },
              ),
            );
          }
          // Held to the inline schema's depth limit: deeper nesting overflows the compiler's stack.
          if (await exceedsDepthSharing(fetched.body, limits.maxDepth))
            refuseRemote(uri, schemaTooDeep(`The remote schema ${uri}`, limits.maxDepth));
          return fetched.body;
        } catch (error) {
          if (error instanceof SchemaFetchError) refusedRemotes.set(uri, unavailable(uri, error));
          if (error instanceof JsonTooDeep)
            refuseRemote(uri, schemaTooDeep(`The remote schema ${uri}`, limits.maxDepth));
          throw error;
        }
      },
    });
  } catch (error) {
    if (error instanceof ValidationLimitError) throw compileLimitRefusal(error, limits);
    if (!(error instanceof SchemaError)) throw error;
    if (error.kind === "unresolvable_ref") {
      const located = {
        ...(error.ref && { ref: error.ref }),
        ...(error.base && { base: error.base }),
      };
      const refused = error.ref ? refusedRemotes.get(error.ref.split("#")[0] as string) : undefined;
      if (refused) {
        // The fetch's own words, plus which reference asked for it and against which base.
        if (refused.code !== "SCHEMA_UNAVAILABLE") throw refused;
        // The engine's message ends with the fetch's own words (": <detail>"): said once.
        const suffix = `: ${refused.detail}`;
        const where = error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
        throw new ValidationRefusal("SCHEMA_UNAVAILABLE", `${refused.detail} (${where})`, {
          ...refused.extensions,
          ...located,
        });
      }
      throw new ValidationRefusal("SCHEMA_UNRESOLVABLE", error.message, located);
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

function compileLimitRefusal(error: ValidationLimitError, limits: ValidationLimits): ValidationRefusal {
  if (error.kind === "compiled_schema_bytes") {
    return new ValidationRefusal(
      "LIMIT_EXCEEDED",
      `The compiled schema would take more than ${limits.maxCompiledSchemaBytes} bytes of memory; split it or send a smaller one.`,
      { limit: "max_compiled_schema_bytes" },
    );
  }
  return new ValidationRefusal(
    "LIMIT_EXCEEDED",
    "Compiling the schema needs more work than one request may use; simplify the schema.",
    { limit: "cpu_budget" },
  );
}
