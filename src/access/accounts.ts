/**
 * Accounts and API keys: the domain service behind /v1/signup, /v1/token, /v1/account and the
 * operator's `npm run keys`. Postgres is reached only through the functions of
 * migrations/0002_access.sql; API keys are hashed here, before anything leaves the process.
 */
import { z } from "zod";
import type { RedisAdapter } from "../adapters/redis";
import { type DatabaseAdapter, DatabaseError } from "../adapters/supabase";
import { monthlyAllowanceView } from "../metering/monthly-allowance";
import { AccessRefusal } from "./access-refusal";
import { apiKeyEntryOf, type KnownApiKey } from "./api-key-entry";
import { generateApiKey, hashApiKey } from "./api-keys";

export const accountSchema = z.object({
  id: z.string(),
  email: z.string(),
  stripe_customer_id: z.string().nullable(),
  tier: z.string(),
  status: z.enum(["active", "past_due", "suspended", "closed"]),
  grace_until: z.string().nullable(),
  created_at: z.string(),
  /** Units a month this account caps itself at (PUT /v1/account/spend-cap); null: no cap. */
  spend_cap_units: z.number().int().nullable().default(null),
  /** Grows with every change of the cap: its Redis mirror keeps the newest (see put-spend-cap). */
  spend_cap_version: z.coerce.number().int().default(0),
});
export type Account = z.infer<typeof accountSchema>;

const accountWithKeySchema = accountSchema.extend({ key_id: z.string(), key_prefix: z.string() });
export type AccountWithKey = z.infer<typeof accountWithKeySchema>;

const revokedKeySchema = z.object({
  key_id: z.string(),
  key_prefix: z.string(),
  account_id: z.string(),
  revoked_at: z.string(),
  key_hash: z.string(),
});

const listedKeySchema = z.object({
  key_id: z.string(),
  key_prefix: z.string(),
  name: z.string(),
  account_id: z.string(),
  email: z.string(),
  tier: z.string(),
  status: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type ListedKey = z.infer<typeof listedKeySchema>;

/** The longest a token can live (TOKEN_TTL_SECONDS max) plus clock tolerance: how long a deny entry must last. */
export const TOKEN_DENY_TTL_SECONDS = 3600 + 60;

const UNIQUE_VIOLATION = "23505";

export interface CreatedAccount {
  account: AccountWithKey;
  /** The API key in full: returned once, never stored. */
  apiKey: string;
  /** Its SHA-256, for the hot path's entry. */
  keyHash: string;
}

/** A new free-tier (or `tier`) account and its first key. A taken email is EMAIL_TAKEN (409). */
export async function signUp(
  db: DatabaseAdapter,
  { email, tier = "free", keyName = "default" }: { email: string; tier?: string; keyName?: string },
): Promise<CreatedAccount> {
  const key = await generateApiKey();
  try {
    const created = await db.rpc<unknown>("create_account", {
      p_email: email,
      p_key_prefix: key.prefix,
      p_key_hash: key.hash,
      p_tier: tier,
      p_key_name: keyName,
    });
    return { account: accountWithKeySchema.parse(created), apiKey: key.key, keyHash: key.hash };
  } catch (error) {
    if (error instanceof DatabaseError && error.code === UNIQUE_VIOLATION) {
      throw new AccessRefusal(
        "EMAIL_TAKEN",
        "An account with this email already exists. Call with any of its API keys (POST /v1/keys makes another, POST /v1/keys/{id}/roll replaces a leaked one); if every key is lost, ask support to issue a new key for this address (the operator's `npm run keys -- create --email`).",
      );
    }
    throw error;
  }
}

/** Another key for an existing account (by id or email); undefined when there is no such account. */
export async function createApiKey(
  db: DatabaseAdapter,
  { account, keyName = "default" }: { account: string; keyName?: string },
): Promise<CreatedAccount | undefined> {
  const key = await generateApiKey();
  const created = await db.rpc<unknown>("create_api_key", {
    p_account: account,
    p_key_prefix: key.prefix,
    p_key_hash: key.hash,
    p_key_name: keyName,
  });
  if (created === null) return undefined;
  return { account: accountWithKeySchema.parse(created), apiKey: key.key, keyHash: key.hash };
}

/** Why an account may not get tokens, as an error code; undefined when it may. */
export function accountRefusal(
  account: Account,
  now: Date,
): "ACCOUNT_SUSPENDED" | "ACCOUNT_PAST_DUE" | "ACCOUNT_CLOSED" | undefined {
  switch (account.status) {
    case "active":
      return undefined;
    case "past_due":
      return account.grace_until && Date.parse(account.grace_until) > now.getTime()
        ? undefined
        : "ACCOUNT_PAST_DUE";
    case "suspended":
      return "ACCOUNT_SUSPENDED";
    case "closed":
      return "ACCOUNT_CLOSED";
  }
}

const resolvedKeySchema = accountWithKeySchema.extend({
  key_revoked_at: z.string().nullable(),
  key_expires_at: z.string().nullable(),
});
/** A key Postgres knows, whatever its state, with its account. */
export type ResolvedApiKey = z.infer<typeof resolvedKeySchema>;

/** The key behind a hash (revoked and expired ones too), with its account; undefined when unknown. */
export async function resolveApiKey(
  db: DatabaseAdapter,
  keyHash: string,
): Promise<ResolvedApiKey | undefined> {
  const found = await db.rpc<unknown>("resolve_api_key", { p_key_hash: keyHash });
  return found === null ? undefined : resolvedKeySchema.parse(found);
}

/** What the hot path's cache needs of a resolved key (see api-key-entry.ts). */
export const knownApiKeyOf = (keyHash: string, key: ResolvedApiKey): KnownApiKey => ({
  keyHash,
  apiKeyId: key.key_id,
  subject: key.id,
  tier: key.tier,
  stripeCustomerId: key.stripe_customer_id,
  expiresAtMs: key.key_expires_at === null ? null : Date.parse(key.key_expires_at),
  revoked: key.key_revoked_at !== null,
  spendCap: { units: key.spend_cap_units, version: key.spend_cap_version },
});

/**
 * Why a key may not be used now, as the refusal to answer with; undefined when it may. Unknown or
 * revoked: API_KEY_INVALID (401); expired: API_KEY_EXPIRED (401); inactive account: 403 with the
 * reason as the code.
 */
export function apiKeyRefusal(key: ResolvedApiKey | undefined, now: Date): AccessRefusal | undefined {
  if (!key)
    return new AccessRefusal("API_KEY_INVALID", "This API key is unknown; check that it was copied whole.");
  if (key.key_revoked_at !== null) {
    return new AccessRefusal(
      "API_KEY_INVALID",
      "This API key has been revoked; use another key of the account.",
    );
  }
  if (key.key_expires_at !== null && Date.parse(key.key_expires_at) <= now.getTime()) {
    return apiKeyExpired(Date.parse(key.key_expires_at));
  }
  const refusal = accountRefusal(key, now);
  return refusal && new AccessRefusal(refusal, refusalDetail[refusal]);
}

/** API_KEY_EXPIRED (401), saying when. */
export const apiKeyExpired = (expiresAtMs: number) =>
  new AccessRefusal(
    "API_KEY_EXPIRED",
    `This API key expired at ${new Date(expiresAtMs).toISOString()}; use another key of the account.`,
  );

/**
 * The account behind an API key, if the key is known, unrevoked, unexpired and the account may use
 * the API; otherwise the refusal of `apiKeyRefusal`.
 */
export async function authenticateApiKey(
  db: DatabaseAdapter,
  apiKey: string,
  now = new Date(),
): Promise<ResolvedApiKey> {
  const key = await resolveApiKey(db, await hashApiKey(apiKey));
  const refusal = apiKeyRefusal(key, now);
  if (refusal || !key) throw refusal;
  return key;
}

const refusalDetail = {
  ACCOUNT_SUSPENDED: "This account is suspended; contact support.",
  ACCOUNT_PAST_DUE:
    "This account's payment is past due and its grace period has ended; update the payment method.",
  ACCOUNT_CLOSED: "This account is closed.",
} as const;

export async function getAccount(db: DatabaseAdapter, accountId: string): Promise<Account | undefined> {
  const found = await db.rpc<unknown>("get_account", { p_account_id: accountId });
  return found === null ? undefined : accountSchema.parse(found);
}

export async function listApiKeys(db: DatabaseAdapter, account?: string): Promise<ListedKey[]> {
  return z
    .array(listedKeySchema)
    .parse(await db.rpc<unknown>("list_api_keys", { p_account: account ?? null }));
}

/**
 * Revokes a key (by id or visible prefix) in Postgres, so it can mint no new token, then marks it
 * revoked in Redis (its entry, and the deny-list for the longest token lifetime), so the key itself
 * and tokens already minted from it are refused on their next request. Undefined when no such key
 * exists.
 */
export async function revokeApiKey(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter | undefined },
  key: string,
): Promise<(Omit<z.infer<typeof revokedKeySchema>, "key_hash"> & { denyListed: boolean }) | undefined> {
  const revoked = await db.rpc<unknown>("revoke_api_key", { p_key: key });
  if (revoked === null) return undefined;
  const { key_hash: keyHash, ...parsed } = revokedKeySchema.parse(revoked);
  if (!redis) return { ...parsed, denyListed: false };
  await markApiKeyRevoked(redis, { keyHash, apiKeyId: parsed.key_id, subject: parsed.account_id });
  return { ...parsed, denyListed: true };
}

/** Marks a key revoked in Redis: its entry (the key itself) and its deny entry (its tokens). */
export async function markApiKeyRevoked(
  redis: RedisAdapter,
  { keyHash, apiKeyId, subject }: { keyHash: string; apiKeyId: string; subject: string },
): Promise<void> {
  const entry = apiKeyEntryOf(
    keyHash,
    { keyHash, apiKeyId, subject, tier: "", stripeCustomerId: null, expiresAtMs: null, revoked: true },
    TOKEN_DENY_TTL_SECONDS,
  );
  await redis.putApiKeyEntry(entry, "set");
}

/** GET /v1/account: the caller's account with the limits and usage its admission just saw. */
/** A rate-limit window as /v1/account shows it. */
interface AccountRateLimit {
  policy: string;
  limit: number;
  windowSeconds: number;
  remaining?: number;
  resetSeconds?: number;
}

export async function describeAccount(
  db: DatabaseAdapter,
  accountId: string,
  admission: {
    rateLimit: AccountRateLimit;
    /** The window this read was counted in, when apart from the tier's (absent while Redis is down). */
    readsRateLimit?: AccountRateLimit;
    periodUnits: number | null;
    record: { occurredAtMs: number; tier: string };
  },
  /** The monthly quota of the tier in force (RATE_LIMIT_TIERS), null when it has none. */
  monthlyQuota: number | null = null,
) {
  const account = await getAccount(db, accountId);
  if (!account) throw new AccessRefusal("NOT_FOUND", "This token's account no longer exists.");
  const { rateLimit: tierRateLimit, readsRateLimit: reads } = admission;
  return {
    id: account.id,
    email: account.email,
    tier: admission.record.tier,
    status: account.status,
    grace_until: account.grace_until,
    stripe_customer_id: account.stripe_customer_id,
    created_at: account.created_at,
    rate_limit: {
      limit: tierRateLimit.limit,
      window_seconds: tierRateLimit.windowSeconds,
      remaining: tierRateLimit.remaining ?? null,
      reset_seconds: tierRateLimit.resetSeconds ?? null,
    },
    reads_rate_limit: reads
      ? { limit: reads.limit, window_seconds: reads.windowSeconds, remaining: reads.remaining ?? null }
      : null,
    usage: {
      period: new Date(admission.record.occurredAtMs).toISOString().slice(0, 7),
      units: admission.periodUnits,
      ...monthlyAllowanceView({
        quota: monthlyQuota,
        cap: account.spend_cap_units,
        used: admission.periodUnits,
        nowMs: admission.record.occurredAtMs,
      }),
    },
  };
}
