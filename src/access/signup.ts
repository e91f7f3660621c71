import type { Config } from "../config";
import { limitByClientIp, signupLimit } from "../metering/client-ip-limit";
import type { Services } from "../services";
import { type CreatedAccount, signUp } from "./accounts";

/** POST /v1/signup: rate limited per client IP, then a free-tier account with its first API key. */
export async function registerAccount(
  { services, config }: { services: Pick<Services, "redis" | "db">; config: Config },
  { email, clientIp, requestId }: { email: string; clientIp: string; requestId: string },
): Promise<CreatedAccount & { headers: Record<string, string> }> {
  const headers = await limitByClientIp({ redis: services.redis }, signupLimit(config.SIGNUP_RATE_LIMIT), {
    clientIp,
    requestId,
  });
  return { ...(await signUp(services.db, { email })), headers };
}
