import { createResendSender, type EmailSender, unconfiguredEmailSender } from "./adapters/email";
import { createRedisAdapter, type RedisAdapter } from "./adapters/redis";
import { createStripeAdapter, type StripeAdapter } from "./adapters/stripe";
import { createSupabaseAdapter, type DatabaseAdapter } from "./adapters/supabase";
import { type Config, schemaByteLimit } from "./config";
import { createRegistryResolver, type RegistryResolver } from "./registry/resolver";
import { createSchemaFetcher } from "./validation/schema-fetcher";
import { createValidationService, type ValidationService } from "./validation/service";

/** Every outside dependency, behind its interface; tests swap any of them through `newApp`. */
export interface Services {
  redis: RedisAdapter;
  db: DatabaseAdapter;
  stripe: StripeAdapter;
  /** Outgoing e-mail (Resend): the console's sign-in links, dunning e-mails. */
  email: EmailSender;
  /** Schema resolution, the compiled-schema cache and validation limits (per isolate). */
  validation: ValidationService;
  /** Registered schemas: what a name stands for, and their documents (per isolate). */
  registry: RegistryResolver;
}

export type ServicesFactory = (config: Config) => Services;

const remembered = new WeakMap<ServicesFactory, WeakMap<Config, Services>>();

/**
 * The services `build` makes for `config`, built once per factory and configuration (so once per
 * isolate): the request path and the cron handler share the same clients.
 */
export function servicesFor(config: Config, build: ServicesFactory = createServices): Services {
  let byConfig = remembered.get(build);
  if (!byConfig) {
    byConfig = new WeakMap();
    remembered.set(build, byConfig);
  }
  let services = byConfig.get(config);
  if (!services) {
    services = build(config);
    byConfig.set(config, services);
  }
  return services;
}

/** The real adapters, built from configuration. */
export const createServices: ServicesFactory = (config) => {
  const db = createSupabaseAdapter({
    url: config.SUPABASE_URL,
    serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
    timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
  });
  const registry = createRegistryResolver({ db, latestTtlSeconds: config.SCHEMA_LATEST_TTL_SECONDS });
  return {
    redis: createRedisAdapter({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
      admissionTimeoutMs: config.ADMISSION_TIMEOUT_MS,
    }),
    db,
    registry,
    stripe: createStripeAdapter({
      secretKey: config.STRIPE_SECRET_KEY,
      apiBase: config.STRIPE_API_BASE,
      timeoutMs: Math.max(config.DEPENDENCY_TIMEOUT_MS, 5000),
    }),
    email: config.RESEND_API_KEY
      ? createResendSender({
          apiKey: config.RESEND_API_KEY,
          from: config.EMAIL_FROM,
          apiBase: config.RESEND_API_BASE,
          timeoutMs: Math.max(config.DEPENDENCY_TIMEOUT_MS, 5000),
        })
      : unconfiguredEmailSender,
    validation: createValidationService({
      // A schema_url document may be as large as an inline schema.
      fetchSchema: createSchemaFetcher({
        allowlist: config.SCHEMA_FETCH_ALLOWLIST,
        maxBytes: schemaByteLimit(config),
        maxDepth: config.MAX_DEPTH,
      }),
      limits: {
        maxDocumentBytes: config.MAX_DOCUMENT_BYTES,
        maxSchemaBytes: schemaByteLimit(config),
        maxDepth: config.MAX_DEPTH,
        maxErrors: config.MAX_ERRORS,
        maxSteps: config.MAX_VALIDATION_STEPS,
        maxDocumentSteps: config.MAX_DOCUMENT_STEPS,
        maxCompileSteps: config.MAX_COMPILE_STEPS,
        maxBatchDocuments: config.MAX_BATCH_DOCUMENTS,
        maxRemoteDocuments: config.MAX_REMOTE_DOCUMENTS,
        maxRemoteSchemaBytes: config.MAX_REMOTE_SCHEMA_BYTES,
        maxCompiledSchemaBytes: config.MAX_COMPILED_SCHEMA_BYTES,
        maxEnrichmentBytes: config.MAX_ENRICHMENT_BYTES,
        maxErrorBytes: config.MAX_ERROR_BYTES,
      },
      cache: { maxEntries: config.SCHEMA_CACHE_ENTRIES, maxBytes: config.SCHEMA_CACHE_BYTES },
      registry,
    }),
  };
};
