import type { Context, Input } from "hono";
import { createMiddleware } from "hono/factory";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { RedisAdapter } from "../../adapters/redis";
import { describeRedisError } from "../../adapters/redis";
import type { BindingsWith } from "../../env";
import { afterResponse } from "../../lib/after-response";
import { log } from "../../lib/log";
import { admissionHeaders, admissionRefusal } from "../../metering/admission-refusal";
import { type Admission, type AdmittedRequest, admitRequest } from "../../metering/admit";
import { admitApiKeyRequest } from "../../metering/admit-api-key";
import { countAnsweredUnits, countsAsAnswered } from "../../metering/answered-units";
import { clientIpOf, keyLookupLimit } from "../../metering/client-ip-limit";
import {
  IDEMPOTENCY_TTL_SECONDS,
  idempotencyClaimOf,
  storedResponseOf,
  unstoredReplayBody,
} from "../../metering/idempotency";
import { needsSettlement, settleAdmission, settleRefusal } from "../../metering/settle";
import type { IdempotencyClaim, UsageRecord } from "../../metering/usage-record";
import type { AuthVariables } from "../auth";

/** What `admitUsage` puts on `c.var` (and `auth` for an API key); it reads what `requireCredential` set. */
export interface AdmissionVariables extends AuthVariables {
  /** The admitted usage of this request. */
  admission: AdmittedRequest;
  /**
   * Set by a handler whose answer cost less than admitted (enrichment asked for, not performed):
   * the difference is compensated after the response. Unset: billed as admitted.
   */
  billedUnits?: number;
}

type AdmissionBindings = BindingsWith<AdmissionVariables>;

// biome-ignore lint/complexity/noBannedTypes: Hono's own default for "no validated input".
export interface AdmitUsageOptions<I extends Input = {}> {
  /**
   * Units this call costs: a number, or computed from the request after validation, e.g.
   * `admitUsage<{ out: { json: Body } }>({ units: (c) => (c.req.valid("json").enrich ? 2 : 1) })`.
   * 0 = rate limited but not billed.
   */
  units: number | ((c: Context<AdmissionBindings, string, I>) => number);
  /** Clock in ms, for tests. Default Date.now. */
  now?: () => number;
  /**
   * Honour an `Idempotency-Key` header: a retry with the same key and body within 24 h is answered
   * the first response (`Idempotent-Replayed: true`) and billed once. Default false.
   */
  idempotent?: boolean;
  /**
   * "reads": an account read (GET /v1/account, /v1/keys, /v1/schemas), counted in its own window
   * (ACCOUNT_READS_LIMIT) so it answers while the tier's is exhausted. Default "tier".
   */
  bucket?: "tier" | "reads";
}

/**
 * Admission for a protected route; put it after `requireCredential`. One Redis round trip decides
 * (for an API key: who it belongs to; deny-list, tier, sliding window) and admits the usage record;
 * refusals are 429 RATE_LIMITED, 401 TOKEN_REVOKED, API_KEY_INVALID or API_KEY_EXPIRED, or 503.
 * Every response gets the RateLimit headers; a response that is not 2xx gets its usage compensated
 * after it is sent, and a 2xx its units counted as answered.
 */
// biome-ignore lint/complexity/noBannedTypes: Hono's own default for "no validated input".
export const admitUsage = <I extends Input = {}>({
  units,
  now,
  idempotent = false,
  bucket,
}: AdmitUsageOptions<I>) =>
  createMiddleware<AdmissionBindings, string, I>(async (c, next) => {
    const { redis, db } = c.get("services");
    const config = c.get("config");
    const deps = {
      redis,
      settings: { tiers: config.RATE_LIMIT_TIERS, failClosedTiers: config.ADMISSION_FAIL_CLOSED_TIERS },
      now,
    };
    const cost = typeof units === "function" ? units(c) : units;
    const credential = c.get("credential");
    // Only a call that sends the header pays for hashing its body.
    const idempotencyKey = idempotent ? c.req.header("Idempotency-Key") : undefined;
    const idempotency =
      idempotencyKey === undefined
        ? null
        : await idempotencyClaimOf(idempotencyKey, {
            method: c.req.method,
            path: c.req.path,
            body: await c.req.text(),
          });
    let admission: Admission;
    if (credential?.kind === "api_key") {
      const byKey = await admitApiKeyRequest(
        { ...deps, db, lookupLimit: keyLookupLimit(config.TOKEN_RATE_LIMIT) },
        {
          keyHash: credential.keyHash,
          prefix: credential.prefix,
          units: cost,
          requestId: c.get("requestId"),
          clientIp: clientIpOf(c.req.header("CF-Connecting-IP"), c.get("config").CLIENT_IPV6_PREFIX),
          idempotency,
          bucket,
        },
      );
      admission = byKey.admission;
      if (byKey.caller) {
        c.set("auth", byKey.caller);
        c.set("subject", byKey.caller.sub);
      }
    } else {
      const claims = c.get("auth");
      admission = await admitRequest(deps, {
        subject: claims.sub,
        tier: claims.tier,
        stripeCustomerId: claims.cus,
        apiKeyId: claims.akid,
        units: cost,
        requestId: c.get("requestId"),
        idempotency,
        bucket,
      });
    }
    if (admission.outcome === "replayed") return replayOf(c, admission);
    if (admission.outcome !== "admitted") {
      await afterResponse(c, settleRefusal({ redis, db }, admission));
      // A timed-out script may have taken the key as pending: free it, or retries wait for its TTL.
      const uncertain = admission.outcome === "unavailable" ? admission.uncertainRecord : undefined;
      if (idempotency && uncertain) {
        await afterResponse(c, keepForRetries(redis, uncertain, idempotency, { status: 503, body: "" }));
      }
      throw admissionRefusal(admission);
    }
    c.set("admission", admission);
    await next();
    for (const [name, value] of Object.entries(admissionHeaders(admission))) c.res.headers.set(name, value);
    const billedUnits = c.get("billedUnits") ?? admission.record.units;
    if (needsSettlement(admission, c.res.status, billedUnits)) {
      await afterResponse(c, settleAdmission({ redis, db }, admission, c.res.status, billedUnits));
    }
    // What the answer cost (enrichment not performed is not billed): kept and counted as such.
    const billed = { ...admission.record, units: billedUnits };
    if (idempotency) {
      const response = c.res.clone();
      const kept = { status: response.status, body: response.ok ? response.text() : "" };
      await afterResponse(c, keepForRetries(redis, billed, idempotency, kept));
    }
    // The reconciliation's independent side: what the caller got, counted apart from the records.
    if (countsAsAnswered(billed, c.res.status)) {
      await afterResponse(c, countAnsweredUnits({ redis, db }, billed));
    }
  });

/** The answer to a retry of a done idempotent call: its response as kept, not billed. */
function replayOf(c: Context<AdmissionBindings>, admission: Extract<Admission, { outcome: "replayed" }>) {
  const { response } = admission;
  const status = response.status as ContentfulStatusCode;
  const replay = response.stored
    ? c.body(response.body, status, { "Content-Type": "application/json" })
    : c.json(unstoredReplayBody(response), status);
  replay.headers.set("Idempotent-Replayed", "true");
  for (const [name, value] of Object.entries(admissionHeaders(admission))) replay.headers.set(name, value);
  return replay;
}

/**
 * After an idempotent call's response: keep it for 24 h (a 2xx) or free the key (anything else).
 * If Redis does not take it, the key stays pending until IDEMPOTENCY_PENDING_TTL_MS and a later
 * retry is a new call (logged). Never throws.
 */
async function keepForRetries(
  redis: RedisAdapter,
  record: UsageRecord,
  idempotency: IdempotencyClaim,
  response: { status: number; body: string | Promise<string> },
): Promise<void> {
  try {
    const body = await response.body;
    await redis.completeIdempotentCall({
      subject: record.subject,
      keyHash: idempotency.keyHash,
      usageId: record.id,
      response: storedResponseOf(response.status, body, record.units),
      ttlSeconds: IDEMPOTENCY_TTL_SECONDS,
    });
  } catch (error) {
    log("warn", "idempotent response not kept: a retry after the pending window is a new call", {
      request_id: record.requestId,
      usage_id: record.id,
      status: response.status,
      error: describeRedisError(error),
    });
  }
}
