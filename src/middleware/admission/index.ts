import type { Context, Input } from "hono";
import { createMiddleware } from "hono/factory";
import type { BindingsWith } from "../../env";
import {
  type Admission,
  type AdmittedRequest,
  admissionHeaders,
  admissionRefusal,
  admitRequest,
  needsSettlement,
  settleAdmission,
  settleRefusal,
} from "../../metering/admit";
import { admitApiKeyRequest } from "../../metering/admit-api-key";
import { countAnsweredUnits, countsAsAnswered } from "../../metering/answered-units";
import { clientIpOf, keyLookupLimit } from "../../metering/client-ip-limit";
import type { AuthVariables } from "../auth";

/** What `admitUsage` puts on `c.var` (and `auth` for an API key); it reads what `requireCredential` set. */
export interface AdmissionVariables extends AuthVariables {
  /** The admitted usage of this request. */
  admission: AdmittedRequest;
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
}

/** Runs `work` after the response when the runtime allows (`waitUntil`), else before returning. */
async function afterResponse(c: Context<AdmissionBindings>, work: Promise<void>): Promise<void> {
  let waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  try {
    const executionCtx = c.executionCtx;
    waitUntil = executionCtx.waitUntil.bind(executionCtx);
  } catch {
    // No ExecutionContext (e.g. app.request in a test without one): finish the work inline.
  }
  if (waitUntil) waitUntil(work);
  else await work;
}

/**
 * Admission for a protected route; put it after `requireCredential`. One Redis round trip decides
 * (for an API key: who it belongs to; deny-list, tier, sliding window) and admits the usage record;
 * refusals are 429 RATE_LIMITED, 401 TOKEN_REVOKED, API_KEY_INVALID or API_KEY_EXPIRED, or 503.
 * Every response gets the RateLimit headers; a response that is not 2xx gets its usage compensated
 * after it is sent, and a 2xx its units counted as answered.
 */
// biome-ignore lint/complexity/noBannedTypes: Hono's own default for "no validated input".
export const admitUsage = <I extends Input = {}>({ units, now }: AdmitUsageOptions<I>) =>
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
      });
    }
    if (admission.outcome !== "admitted") {
      await afterResponse(c, settleRefusal({ redis, db }, admission));
      throw admissionRefusal(admission);
    }
    c.set("admission", admission);
    await next();
    for (const [name, value] of Object.entries(admissionHeaders(admission))) c.res.headers.set(name, value);
    if (needsSettlement(admission, c.res.status)) {
      await afterResponse(c, settleAdmission({ redis, db }, admission, c.res.status));
    }
    // The reconciliation's independent side: what the caller got, counted apart from the records.
    if (countsAsAnswered(admission.record, c.res.status)) {
      await afterResponse(c, countAnsweredUnits({ redis, db }, admission.record));
    }
  });
