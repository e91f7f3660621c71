/**
 * Accounts and API keys: the domain service behind /v1/signup, /v1/token, /v1/account and the
 * operator's `npm run keys`. Postgres is reached only through the functions of
 * migrations/0002_access.sql; API keys are hashed here, before anything leaves the process.
 */
import { z } from "zod";
import type { RedisAdapter } from "../adapters/redis";
import { type DatabaseAdapter, DatabaseError } from "../adapters/supabase";
import { AccessRefusal } from "./access-refusal";
import { generateApiKey, hashApiKey } from "./api-keys";

const accountSchema = z.object({
  id: z.string(),
  email: z.string(),
  stripe_customer_id: z.string().nullable(),
  tier: z.string(),
  status: z.enum(["active", "past_due", "suspended", "closed"]),
  grace_until: z.string().nullable(),
  created_at: z.string(),
});
export type Account = z.infer<typeof accountSchema>;

const accountWithKeySchema = accountSchema.extend({ key_id: z.string(), key_prefix: z.string() });
export type AccountWithKey = z.infer<typeof accountWithKeySchema>;

const revokedKeySchema = z.object({
  key_id: z.string(),
  key_prefix: z.string(),
  account_id: z.string(),
  revoked_at: z.string(),
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
    return { account: accountWithKeySchema.parse(created), apiKey: key.key };
  } catch (error) {
    if (error instanceof DatabaseError && error.code === UNIQUE_VIOLATION) {
      throw new AccessRefusal("EMAIL_TAKEN", "An account with this email already exists; use its API key.");
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
  return { account: accountWithKeySchema.parse(created), apiKey: key.key };
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

/**
 * The account behind an API key, if the key is known, unrevoked and the account may use the API.
 * Unknown or revoked: API_KEY_INVALID (401). Inactive account: 403 with the reason as the code.
 */
export async function authenticateApiKey(
  db: DatabaseAdapter,
  apiKey: string,
  now = new Date(),
): Promise<AccountWithKey> {
  const found = await db.rpc<unknown>("exchange_api_key", { p_key_hash: await hashApiKey(apiKey) });
  if (found === null) {
    throw new AccessRefusal("API_KEY_INVALID", "This API key is unknown or has been revoked.");
  }
  const account = accountWithKeySchema.parse(found);
  const refusal = accountRefusal(account, now);
  if (refusal) throw new AccessRefusal(refusal, refusalDetail[refusal]);
  return account;
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
 * Revokes a key (by id or visible prefix) in Postgres, so it can mint no new token, then puts it on
 * the Redis deny-list for the longest token lifetime, so tokens already minted from it are refused
 * on their next request. Undefined when no such key exists.
 */
export async function revokeApiKey(
  { db, redis }: { db: DatabaseAdapter; redis: RedisAdapter | undefined },
  key: string,
): Promise<(z.infer<typeof revokedKeySchema> & { denyListed: boolean }) | undefined> {
  const revoked = await db.rpc<unknown>("revoke_api_key", { p_key: key });
  if (revoked === null) return undefined;
  const parsed = revokedKeySchema.parse(revoked);
  if (!redis) return { ...parsed, denyListed: false };
  await redis.denyApiKey(parsed.key_id, TOKEN_DENY_TTL_SECONDS);
  return { ...parsed, denyListed: true };
}

/** GET /v1/account: the caller's account with the limits and usage its admission just saw. */
export async function describeAccount(
  db: DatabaseAdapter,
  accountId: string,
  admission: {
    rateLimit: { policy: string; limit: number; windowSeconds: number; remaining?: number };
    periodUnits: number | null;
    record: { occurredAtMs: number };
  },
) {
  const account = await getAccount(db, accountId);
  if (!account) throw new AccessRefusal("NOT_FOUND", "This token's account no longer exists.");
  const { rateLimit } = admission;
  return {
    id: account.id,
    email: account.email,
    tier: rateLimit.policy,
    status: account.status,
    grace_until: account.grace_until,
    stripe_customer_id: account.stripe_customer_id,
    created_at: account.created_at,
    rate_limit: {
      limit: rateLimit.limit,
      window_seconds: rateLimit.windowSeconds,
      remaining: rateLimit.remaining ?? null,
    },
    usage: {
      period: new Date(admission.record.occurredAtMs).toISOString().slice(0, 7),
      units: admission.periodUnits,
    },
  };
}
