/**
 * Registered schemas at the edge. Validating by `schema_id` needs two things:
 * - **the pointer**: which version `orders` (latest) or `orders@3` stands for now, its content hash
 *   and whether the name is retired. Cached per isolate for SCHEMA_LATEST_TTL_SECONDS (default 5):
 *   that is how long a publish or a retirement takes to reach every isolate; the isolate that
 *   published forgets its own pointer at once. One small Postgres call per name per isolate per TTL.
 * - **the document**, only when the compiled-schema cache has no validator for that version and
 *   hash: versions are immutable, so the document is cached for good, first in the Workers Cache
 *   API (shared by the isolates of a location; absent in Node, where this layer is skipped), then
 *   read from Postgres.
 */
import type { DatabaseAdapter } from "../adapters/supabase";
import { BoundedLru } from "../lib/bounded-lru";
import { log } from "../lib/log";
import { Refusal } from "../refusal";
import {
  getSchemaVersion,
  resolveSchemaVersion,
  type SchemaId,
  type SchemaVersion,
  schemaNotFound,
} from "./store";

/** Pointers held per isolate. */
const POINTER_ENTRIES = 10_000;

/**
 * How registered schemas refer to each other: `urn:schema-meter:schema:<name>@<version>`, always
 * with the version (a reference that moved with `@latest` would change a published version's
 * meaning). It is also the base URI of a registered schema without an `$id`.
 */
export const REGISTRY_URI_PREFIX = "urn:schema-meter:schema:";

export function registryUri(name: string, version: number): string {
  return `${REGISTRY_URI_PREFIX}${name}@${version}`;
}

/** The name and version of a registry URI, or undefined when it is not one (or has no version). */
export function parseRegistryUri(uri: string): { name: string; version: number } | undefined {
  if (!uri.startsWith(REGISTRY_URI_PREFIX)) return undefined;
  const match = /^([a-z0-9-]{1,64})@([1-9][0-9]{0,8})$/.exec(uri.slice(REGISTRY_URI_PREFIX.length));
  return match?.[1] && match[2] ? { name: match[1], version: Number(match[2]) } : undefined;
}

export interface RegistryResolver {
  /** The version `id` stands for; SCHEMA_NOT_FOUND (404) or SCHEMA_RETIRED (410) otherwise. */
  pointer(account: string, id: SchemaId): Promise<SchemaVersion>;
  /** The JSON text of a version the pointer named. */
  document(account: string, version: SchemaVersion): Promise<string>;
  /** Drops this isolate's pointers to `name` (after a publish or a retirement here). */
  forget(account: string, name: string): void;
}

export function createRegistryResolver(deps: {
  db: DatabaseAdapter;
  latestTtlSeconds: number;
  now?: () => number;
  /** The Workers Cache API; default `caches.default` where it exists. */
  cache?: Cache;
}): RegistryResolver {
  const now = deps.now ?? Date.now;
  // By account and name: the pointers to its latest and to its pinned versions, forgotten together.
  const pointers = new BoundedLru<Map<number | "latest", { version: SchemaVersion; expiresAt: number }>>(
    POINTER_ENTRIES,
    Number.MAX_SAFE_INTEGER,
  );
  const sharedCache = (): Cache | undefined =>
    deps.cache ?? (globalThis as { caches?: { default?: Cache } }).caches?.default;
  const documentUrl = (account: string, v: SchemaVersion) =>
    `https://registry.schema-meter.internal/${account}/${v.name}/${v.version}/${v.content_hash}`;

  return {
    async pointer(account, id) {
      const key = `${account}/${id.name}`;
      const cached = pointers.get(key)?.get(id.version ?? "latest");
      let version = cached && cached.expiresAt > now() ? cached.version : undefined;
      if (!version) {
        version = await resolveSchemaVersion(deps.db, account, id);
        if (!version) throw schemaNotFound(id);
        const byVersion = pointers.get(key) ?? new Map();
        byVersion.set(id.version ?? "latest", { version, expiresAt: now() + deps.latestTtlSeconds * 1000 });
        pointers.set(key, byVersion, 1);
      }
      if (version.retired_at) {
        throw new Refusal(
          "SCHEMA_RETIRED",
          `The schema "${id.name}" was retired at ${version.retired_at}; its versions stay readable at GET /v1/schemas/${id.name}.`,
        );
      }
      return version;
    },

    async document(account, version) {
      const cache = sharedCache();
      const url = documentUrl(account, version);
      if (cache) {
        try {
          const hit = await cache.match(url);
          if (hit) return await hit.text();
        } catch (error) {
          log("warn", "registry cache unavailable", {
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      const stored = await getSchemaVersion(deps.db, account, {
        name: version.name,
        version: version.version,
      });
      if (!stored || stored.content_hash !== version.content_hash) throw schemaNotFound(version);
      if (cache) {
        const response = new Response(stored.document, {
          headers: {
            "Content-Type": "application/json",
            "Cache-Control": "public, max-age=31536000, immutable",
          },
        });
        await cache.put(url, response).catch((error: unknown) => {
          log("warn", "registry cache unavailable", {
            error: error instanceof Error ? error.message : String(error),
          });
        });
      }
      return stored.document;
    },

    forget(account, name) {
      pointers.delete(`${account}/${name}`);
    },
  };
}
