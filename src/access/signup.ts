import { z } from "zod";
import { describeRedisError } from "../adapters/redis";
import type { Config } from "../config";
import { log } from "../lib/log";
import { limitByClientIp, signupLimit } from "../metering/client-ip-limit";
import type { Services } from "../services";
import { type CreatedAccount, signUp, TOKEN_DENY_TTL_SECONDS } from "./accounts";
import { apiKeyEntryOf } from "./api-key-entry";

/** An e-mail address an account may be signed up or signed in with: the API's and the console's rule. */
export const emailAddress = z.email().max(254);

/**
 * POST /v1/signup: rate limited per client IP, then a free-tier account with its first API key,
 * whose entry is written to Redis so the key's first call needs no Postgres lookup (if that write
 * fails, the first call looks the key up instead).
 */
export async function registerAccount(
  { services, config }: { services: Pick<Services, "redis" | "db">; config: Config },
  { email, clientIp, requestId }: { email: string; clientIp: string; requestId: string },
): Promise<CreatedAccount & { headers: Record<string, string> }> {
  const headers = await limitByClientIp({ redis: services.redis }, signupLimit(config.SIGNUP_RATE_LIMIT), {
    clientIp,
    requestId,
  });
  const created = await signUp(services.db, { email });
  const { account, keyHash } = created;
  const entry = apiKeyEntryOf(
    keyHash,
    {
      keyHash,
      apiKeyId: account.key_id,
      subject: account.id,
      tier: account.tier,
      stripeCustomerId: account.stripe_customer_id,
      expiresAtMs: null,
      revoked: false,
    },
    TOKEN_DENY_TTL_SECONDS,
  );
  await services.redis.putApiKeyEntry(entry, "set").catch((error: unknown) => {
    log("warn", "api key entry not written", {
      request_id: requestId,
      key_prefix: account.key_prefix,
      error: describeRedisError(error),
    });
  });
  return { ...created, headers };
}
