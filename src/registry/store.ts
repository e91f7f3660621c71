/**
 * The schema registry's storage: the SQL functions of migrations/0010_schema_registry.sql, reached
 * through `supabase.rpc`. Every call names the account; the SQL touches that account's rows only.
 */
import { z } from "zod";
import type { DatabaseAdapter } from "../adapters/supabase";
import { Refusal } from "../refusal";

/** A registered schema's name: a lower-case slug of 1 to 64 characters. */
export const SCHEMA_NAME = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

const versionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  latest_version: z.number().int(),
  content_hash: z.string(),
  bytes: z.number().int(),
  published_at: z.string(),
  retired_at: z.string().nullable(),
});
export type SchemaVersion = z.infer<typeof versionSchema>;

const storedSchema = versionSchema.extend({ document: z.string() });
export type StoredSchema = z.infer<typeof storedSchema>;

const publishReply = z.union([
  versionSchema.extend({ created: z.boolean() }),
  z.object({
    error: z.enum(["retired", "quota_schemas", "quota_bytes", "unknown_account"]),
    limit: z.number().optional(),
    used: z.number().optional(),
    needed: z.number().optional(),
    retired_at: z.string().optional(),
  }),
]);

/** How much an account may keep in the registry (SCHEMA_REGISTRY_QUOTAS, by tier). */
export interface RegistryQuota {
  schemas: number;
  bytes: number;
}

/** A schema reference as `schema_id` writes it: `orders` (the latest version) or `orders@3`. */
export interface SchemaId {
  name: string;
  version?: number;
}

/** Parses `schema_id`; undefined when it is neither `name` nor `name@version`. */
export function parseSchemaId(text: string): SchemaId | undefined {
  const match = /^([^@]+)(?:@([1-9][0-9]{0,8}))?$/.exec(text);
  if (!match?.[1] || !SCHEMA_NAME.test(match[1])) return undefined;
  return match[2] ? { name: match[1], version: Number(match[2]) } : { name: match[1] };
}

export async function publishSchema(
  db: DatabaseAdapter,
  account: string,
  input: { name: string; document: string; contentHash: string },
  quota: RegistryQuota,
): Promise<SchemaVersion & { created: boolean }> {
  const reply = publishReply.parse(
    await db.rpc<unknown>("publish_schema", {
      p_account: account,
      p_name: input.name,
      p_document: input.document,
      p_content_hash: input.contentHash,
      p_max_schemas: quota.schemas,
      p_max_bytes: quota.bytes,
    }),
  );
  if (!("error" in reply)) return reply;
  switch (reply.error) {
    case "retired":
      throw new Refusal(
        "SCHEMA_RETIRED",
        `The schema "${input.name}" was retired at ${reply.retired_at}; publish under a new name.`,
      );
    case "quota_schemas":
      throw new Refusal(
        "SCHEMA_QUOTA_EXCEEDED",
        `Your plan keeps at most ${reply.limit} registered schemas; retire one (DELETE /v1/schemas/{name}) or upgrade.`,
        { extensions: { limit: reply.limit, used: reply.used } },
      );
    case "quota_bytes":
      throw new Refusal(
        "SCHEMA_STORAGE_EXCEEDED",
        `Your plan stores at most ${reply.limit} bytes of schema versions (${reply.used} used, this one needs ${reply.needed}); upgrade to store more.`,
        { extensions: { limit: reply.limit, used: reply.used, needed: reply.needed } },
      );
    default:
      throw new Refusal("SCHEMA_NOT_FOUND", "The account no longer exists.");
  }
}

/** One version (the latest without `version`), or undefined. */
export async function getSchemaVersion(
  db: DatabaseAdapter,
  account: string,
  id: SchemaId,
): Promise<StoredSchema | undefined> {
  const found = await db.rpc<unknown>("get_schema_version", {
    p_account: account,
    p_name: id.name,
    p_version: id.version ?? null,
  });
  return found === null ? undefined : storedSchema.parse(found);
}

/** What `id` stands for now (version, hash, retirement), without the document; or undefined. */
export async function resolveSchemaVersion(
  db: DatabaseAdapter,
  account: string,
  id: SchemaId,
): Promise<SchemaVersion | undefined> {
  const found = await db.rpc<unknown>("resolve_schema", {
    p_account: account,
    p_name: id.name,
    p_version: id.version ?? null,
  });
  return found === null ? undefined : versionSchema.parse(found);
}

export async function listSchemas(db: DatabaseAdapter, account: string): Promise<SchemaVersion[]> {
  return z.array(versionSchema).parse(await db.rpc<unknown>("list_schemas", { p_account: account }));
}

export async function retireSchema(
  db: DatabaseAdapter,
  account: string,
  name: string,
): Promise<{ name: string; retired_at: string; latest_version: number } | undefined> {
  const retired = await db.rpc<unknown>("retire_schema", { p_account: account, p_name: name });
  if (retired === null) return undefined;
  return z.object({ name: z.string(), retired_at: z.string(), latest_version: z.number() }).parse(retired);
}

/** The operator's view: registry use per account, largest first. */
export async function registryOverview(db: DatabaseAdapter, limit: number) {
  return z
    .array(
      z.object({
        account_id: z.string(),
        active_schemas: z.number(),
        retired_schemas: z.number(),
        versions: z.number(),
        bytes: z.number(),
      }),
    )
    .parse(await db.rpc<unknown>("registry_overview", { p_limit: limit }));
}

/** The refusal for a name or version the account does not have. */
export function schemaNotFound(id: SchemaId): Refusal {
  const what = id.version ? `"${id.name}@${id.version}"` : `"${id.name}"`;
  return new Refusal("SCHEMA_NOT_FOUND", `No registered schema ${what}; GET /v1/schemas lists yours.`);
}
