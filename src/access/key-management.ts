/**
 * API keys managed by their account (GET/POST /v1/keys, DELETE /v1/keys/{id}, POST
 * /v1/keys/{id}/roll). Postgres decides (migrations/0008: the key cap and the last-key rule, under
 * the account's row lock); each change is then written to the key's entry in Redis, so it holds
 * from the next request on. Secrets are returned once and never stored.
 */
import { z } from "zod";
import { describeRedisError, type RedisAdapter } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { log } from "../lib/log";
import { Refusal } from "../refusal";
import { AccessRefusal } from "./access-refusal";
import { markApiKeyRevoked, TOKEN_DENY_TTL_SECONDS } from "./accounts";
import { apiKeyEntryOf } from "./api-key-entry";
import { generateApiKey, type NewApiKey } from "./api-keys";

/** Usable (unrevoked, unexpired) keys an account may hold at once. */
export const MAX_ACTIVE_KEYS = 20;
/** The longest a rolled key may stay valid beside its replacement: 7 days. */
export const MAX_ROLL_OVERLAP_SECONDS = 7 * 24 * 3600;

const accountKeySchema = z.object({
  key_id: z.string(),
  key_prefix: z.string(),
  name: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  replaced_by: z.string().nullable().default(null),
});
/** One key as its account sees it (never its hash or secret). */
export type AccountKey = z.infer<typeof accountKeySchema>;

const refusedSchema = z.object({ refused: z.enum(["API_KEY_LIMIT_REACHED", "API_KEY_LAST_ACTIVE"]) });
const createdSchema = z.object({
  key: accountKeySchema,
  tier: z.string(),
  customer: z.string().nullable(),
});
const revokedSchema = z.object({ key: accountKeySchema, key_hash: z.string() });
const rolledSchema = createdSchema.extend({ old: accountKeySchema, old_key_hash: z.string() });

export interface Deps {
  db: DatabaseAdapter;
  redis: RedisAdapter;
}

const REFUSAL_DETAILS = {
  API_KEY_LIMIT_REACHED: `An account may hold ${MAX_ACTIVE_KEYS} active keys; delete one (DELETE /v1/keys/{id}) first.`,
  API_KEY_LAST_ACTIVE:
    "This is the account's last key without an expiry, its way in; create another key (POST /v1/keys) before deleting it, or replace it with POST /v1/keys/{id}/roll.",
} as const;

function refusalOf(reply: unknown): AccessRefusal | undefined {
  const refused = refusedSchema.safeParse(reply);
  return refused.success
    ? new AccessRefusal(refused.data.refused, REFUSAL_DETAILS[refused.data.refused])
    : undefined;
}

const noSuchKey = (key: string) => new AccessRefusal("NOT_FOUND", `This account has no key ${key}.`);

/**
 * Writes a change Postgres committed to Redis, retried once; if Redis still fails, 503 saying that
 * repeating the call is safe (each of these calls is idempotent or refuses a repeat harmlessly).
 */
async function tellTheEdge(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch {
    try {
      await write();
    } catch (error) {
      throw new Refusal(
        "DEPENDENCY_UNAVAILABLE",
        "The change is saved but could not reach every request yet; repeat the call to apply it at once.",
        { retryAfterSeconds: 1, cause: error },
      );
    }
  }
}

/** The account's keys, newest first. */
export async function listAccountKeys(db: DatabaseAdapter, accountId: string): Promise<AccountKey[]> {
  const keys = z
    .array(accountKeySchema.loose())
    .parse(await db.rpc<unknown>("list_api_keys", { p_account: accountId }));
  return keys.map((key) => accountKeySchema.parse(key));
}

async function putActiveEntry(
  redis: RedisAdapter,
  {
    accountId,
    key,
    secret,
    tier,
    customer,
  }: {
    accountId: string;
    key: AccountKey;
    secret: NewApiKey;
    tier: string;
    customer: string | null;
  },
) {
  const entry = apiKeyEntryOf(
    secret.hash,
    {
      keyHash: secret.hash,
      apiKeyId: key.key_id,
      subject: accountId,
      tier,
      stripeCustomerId: customer,
      expiresAtMs: key.expires_at === null ? null : Date.parse(key.expires_at),
      revoked: false,
    },
    TOKEN_DENY_TTL_SECONDS,
  );
  await redis.putApiKeyEntry(entry, "set");
}

/** Not fatal: without its entry, a new key's first call looks it up in Postgres and fills it. */
const entryNotWritten = (key: AccountKey) => (error: unknown) => {
  log("warn", "api key entry not written", { key_prefix: key.key_prefix, error: describeRedisError(error) });
};

/** A new key for the account; its secret is in the result, once. */
export async function createAccountKey(
  { db, redis }: Deps,
  { accountId, name, expiresAt }: { accountId: string; name: string; expiresAt: string | null },
): Promise<{ key: AccountKey; secret: string }> {
  const secret = await generateApiKey();
  const reply = await db.rpc<unknown>("create_account_api_key", {
    p_account_id: accountId,
    p_key_prefix: secret.prefix,
    p_key_hash: secret.hash,
    p_name: name,
    p_expires_at: expiresAt,
    p_max_active: MAX_ACTIVE_KEYS,
  });
  if (reply === null) throw new AccessRefusal("NOT_FOUND", "This account no longer exists.");
  const refusal = refusalOf(reply);
  if (refusal) throw refusal;
  const { key, tier, customer } = createdSchema.parse(reply);
  await putActiveEntry(redis, { accountId, key, secret, tier, customer }).catch(entryNotWritten(key));
  return { key, secret: secret.key };
}

/** Revokes one of the account's keys (by id or prefix), at once for the key and its tokens. */
export async function revokeAccountKey(
  { db, redis }: Deps,
  { accountId, key }: { accountId: string; key: string },
): Promise<AccountKey> {
  const reply = await db.rpc<unknown>("revoke_account_api_key", { p_account_id: accountId, p_key: key });
  if (reply === null) throw noSuchKey(key);
  const refusal = refusalOf(reply);
  if (refusal) throw refusal;
  const revoked = revokedSchema.parse(reply);
  await tellTheEdge(() =>
    markApiKeyRevoked(redis, { keyHash: revoked.key_hash, apiKeyId: revoked.key.key_id, subject: accountId }),
  );
  return revoked.key;
}

/**
 * Replaces one of the account's usable keys with a new one (same name): the old key keeps working
 * for `overlapSeconds` (0: revoked at once, with its tokens), then is refused as expired.
 */
export async function rollAccountKey(
  { db, redis }: Deps,
  {
    accountId,
    key,
    overlapSeconds,
    expiresAt,
  }: { accountId: string; key: string; overlapSeconds: number; expiresAt: string | null },
): Promise<{ old: AccountKey; key: AccountKey; secret: string }> {
  const secret = await generateApiKey();
  const reply = await db.rpc<unknown>("roll_api_key", {
    p_account_id: accountId,
    p_key: key,
    p_key_prefix: secret.prefix,
    p_key_hash: secret.hash,
    p_overlap_seconds: overlapSeconds,
    p_expires_at: expiresAt,
  });
  if (reply === null) throw noSuchKey(key);
  const rolled = rolledSchema.parse(reply);
  const { old, tier, customer } = rolled;
  await tellTheEdge(async () => {
    if (old.revoked_at !== null) {
      await markApiKeyRevoked(redis, {
        keyHash: rolled.old_key_hash,
        apiKeyId: old.key_id,
        subject: accountId,
      });
    } else {
      await redis.putApiKeyEntry(
        apiKeyEntryOf(
          rolled.old_key_hash,
          {
            keyHash: rolled.old_key_hash,
            apiKeyId: old.key_id,
            subject: accountId,
            tier,
            stripeCustomerId: customer,
            expiresAtMs: old.expires_at === null ? null : Date.parse(old.expires_at),
            revoked: false,
          },
          TOKEN_DENY_TTL_SECONDS,
        ),
        "set",
      );
    }
  });
  await putActiveEntry(redis, { accountId, key: rolled.key, secret, tier, customer }).catch(
    entryNotWritten(rolled.key),
  );
  return { old, key: rolled.key, secret: secret.key };
}
