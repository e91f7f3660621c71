/**
 * Admission of a call made with an API key itself (no token): the same one Redis round trip as a
 * token's call, where the script also reads who the key belongs to from its entry in Redis.
 *
 * On a miss (no entry: a new isolate of Redis, an entry past its hour, a key created while Redis was
 * down) Postgres is asked once, limited per client network like POST /v1/token; its answer fills
 * the entry and the call is admitted by its subject, as a token's would be. While Redis does not
 * answer, Postgres names the caller and the fallback of `admitWithoutRedis` applies (fail-open or
 * fail-closed by tier), with the usage id the timed-out script may have admitted, so a refusal that
 * follows is compensated (`settleRefusal`) as for a token's call.
 */

import { AccessRefusal } from "../access/access-refusal";
import {
  apiKeyExpired,
  apiKeyRefusal,
  knownApiKeyOf,
  type ResolvedApiKey,
  resolveApiKey,
  TOKEN_DENY_TTL_SECONDS,
} from "../access/accounts";
import { apiKeyEntryOf } from "../access/api-key-entry";
import { describeRedisError, mayHaveRun } from "../adapters/redis";
import type { DatabaseAdapter } from "../adapters/supabase";
import { describeError, log } from "../lib/log";
import { Refusal } from "../refusal";
import {
  type Admission,
  type AdmissionDeps,
  type AdmissionRequest,
  admissionOfReply,
  admitRequest,
  admitWithoutRedis,
  newUsageId,
  policyFor,
  usageRecordOf,
} from "./admit";
import { type ClientIpLimit, limitByClientIp } from "./client-ip-limit";
import type { AdmitUsageReply, IdempotencyClaim } from "./usage-record";

export interface ApiKeyAdmissionDeps extends AdmissionDeps {
  db: DatabaseAdapter;
  /** The per-network limit of Postgres key lookups on a miss (the token exchange's). */
  lookupLimit: ClientIpLimit;
}

export interface ApiKeyAdmissionRequest {
  /** SHA-256 of the key. */
  keyHash: string;
  /** The key's visible prefix, for logs. */
  prefix: string;
  units: number;
  requestId: string;
  /** The caller's network (clientIpOf), for the limit on misses. */
  clientIp: string;
  /** The call's Idempotency-Key, if any. */
  idempotency?: IdempotencyClaim | null;
  /** "reads": an account read, in its own window. Default the tier's. */
  bucket?: "tier" | "reads";
}

/** Who the key belongs to, as a token's claims would say. */
export interface KeyCaller {
  sub: string;
  tier: string;
  cus: string | null;
  akid: string | null;
}

const revokedKey = () =>
  new AccessRefusal("API_KEY_INVALID", "This API key has been revoked; use another key of the account.");

/**
 * Admits (or refuses) a call made with an API key. Key problems are AccessRefusals (API_KEY_INVALID,
 * API_KEY_EXPIRED, ACCOUNT_*); rate limits, revoked accounts and outages are the Admission outcomes
 * of a token's call. `caller` is set once the key's owner is known.
 */
export async function admitApiKeyRequest(
  deps: ApiKeyAdmissionDeps,
  request: ApiKeyAdmissionRequest,
): Promise<{ admission: Admission; caller?: KeyCaller }> {
  const nowMs = (deps.now ?? Date.now)();
  const usageId = newUsageId();
  let reply: AdmitUsageReply;
  try {
    reply = await deps.redis.admitApiKeyUsage({
      usageId,
      requestId: request.requestId,
      units: request.units,
      nowMs,
      tiers: deps.settings.tiers,
      apiKeyHash: request.keyHash,
      idempotency: request.idempotency,
      bucket: request.bucket,
      fallbackTier: policyFor(deps.settings.tiers, "").tier,
    });
  } catch (error) {
    return admitWithoutRedisByKey(deps, request, usageId, nowMs, error);
  }
  switch (reply.status) {
    case "key_missing":
      return admitAfterMiss(deps, request, nowMs);
    case "key_unknown":
      throw apiKeyRefusal(undefined, new Date(nowMs));
    case "key_expired":
      throw apiKeyExpired(reply.expiresAtMs);
    case "denied":
      if (reply.reason === "api_key") throw revokedKey();
      return { admission: { outcome: "revoked", reason: "subject" } };
    case "unknown_tier":
      // The entry names a tier RATE_LIMIT_TIERS no longer has, and the script found no policy for it.
      throw new Refusal("SERVICE_MISCONFIGURED", "Rate-limit tiers are inconsistent.");
  }
  const caller: KeyCaller = {
    sub: reply.subject ?? "",
    tier: reply.tier,
    cus: reply.stripeCustomerId ?? null,
    akid: reply.apiKeyId ?? null,
  };
  const admissionRequest = requestOf(caller, request);
  const record = usageRecordOf(admissionRequest, reply.tier, nowMs, usageId);
  return { admission: admissionOfReply(deps, admissionRequest, record, reply, nowMs), caller };
}

const requestOf = (caller: KeyCaller, request: ApiKeyAdmissionRequest): AdmissionRequest => ({
  subject: caller.sub,
  tier: caller.tier,
  stripeCustomerId: caller.cus,
  apiKeyId: caller.akid,
  units: request.units,
  requestId: request.requestId,
  idempotency: request.idempotency,
  bucket: request.bucket,
});

const callerOf = (key: ResolvedApiKey): KeyCaller => ({
  sub: key.id,
  tier: key.tier,
  cus: key.stripe_customer_id,
  akid: key.key_id,
});

/** Postgres's answer for the key, or its refusal; the entry is filled with what may be cached. */
async function lookUpKey(
  deps: ApiKeyAdmissionDeps,
  request: ApiKeyAdmissionRequest,
  nowMs: number,
  { fill }: { fill: boolean },
): Promise<ResolvedApiKey> {
  const key = await resolveApiKey(deps.db, request.keyHash);
  const refusal = apiKeyRefusal(key, new Date(nowMs));
  // An account refused for its status is not cached: billing lifts that through the edge state,
  // which an entry saying "refused" would outlive. Unknown, revoked and expired keys are.
  const cacheable = !refusal || refusal.code.startsWith("API_KEY_");
  if (fill && cacheable) {
    const entry = apiKeyEntryOf(
      request.keyHash,
      key && knownApiKeyOf(request.keyHash, key),
      TOKEN_DENY_TTL_SECONDS,
    );
    await deps.redis.putApiKeyEntry(entry, "fill").catch((error: unknown) => {
      log("warn", "api key entry not filled", {
        request_id: request.requestId,
        key_prefix: request.prefix,
        error: describeRedisError(error),
      });
    });
  }
  if (refusal || !key) throw refusal;
  return key;
}

/** Redis did not know the key: one Postgres lookup (limited per network), then admission by subject. */
async function admitAfterMiss(
  deps: ApiKeyAdmissionDeps,
  request: ApiKeyAdmissionRequest,
  nowMs: number,
): Promise<{ admission: Admission; caller: KeyCaller }> {
  await limitByClientIp({ redis: deps.redis, now: deps.now }, deps.lookupLimit, {
    clientIp: request.clientIp,
    requestId: request.requestId,
  });
  const caller = callerOf(await lookUpKey(deps, request, nowMs, { fill: true }));
  return { admission: await admitRequest(deps, requestOf(caller, request)), caller };
}

/** Redis did not answer: Postgres names the caller, and the fallback of a token's call applies. */
async function admitWithoutRedisByKey(
  deps: ApiKeyAdmissionDeps,
  request: ApiKeyAdmissionRequest,
  usageId: string,
  nowMs: number,
  error: unknown,
): Promise<{ admission: Admission; caller: KeyCaller }> {
  let key: ResolvedApiKey;
  try {
    key = await lookUpKey(deps, request, nowMs, { fill: false });
  } catch (lookupError) {
    if (!(lookupError instanceof AccessRefusal) && request.units > 0 && mayHaveRun(error)) {
      // Neither Redis nor Postgres could say whose key this is: if the timed-out script did admit
      // this usage id, only an operator can compensate it (the line names what is needed).
      log("error", "usage record unconfirmed: admission timed out and the api key could not be resolved", {
        request_id: request.requestId,
        usage_id: usageId,
        key_prefix: request.prefix,
        units: request.units,
        occurred_at: new Date(nowMs).toISOString(),
        error: describeRedisError(error),
        lookup_error: describeError(lookupError),
      });
    }
    throw lookupError;
  }
  const caller = callerOf(key);
  const admissionRequest = requestOf(caller, request);
  const policy = policyFor(deps.settings.tiers, caller.tier);
  const record = usageRecordOf(admissionRequest, policy.tier, nowMs, usageId);
  return {
    admission: admitWithoutRedis(deps, admissionRequest, record, policy, nowMs, error),
    caller,
  };
}
