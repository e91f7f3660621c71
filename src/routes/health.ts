import { createRoute, z } from "@hono/zod-openapi";
import { loadTokenKeys, TokenKeyError } from "../access/token-keys";
import { StripeBreaker } from "../billing/breaker";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { describeError, log } from "../lib/log";
import { withTimeout } from "../lib/timeout";
import { admissionStats } from "../metering/admit";
import { jsonResponse, problemResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";

const liveSchema = z.object({ status: z.literal("ok") });
const checkSchema = z.object({ ok: z.boolean(), latency_ms: z.number(), error: z.string().optional() });
export const breakerSchema = z
  .object({
    state: z.enum(["closed", "open", "half_open"]),
    consecutive_failures: z.number(),
    open_until: z.string().nullable(),
  })
  .nullable()
  .describe(
    "The shared Stripe circuit breaker (information only: it never fails readiness); null if unknown",
  );
export const admissionSchema = z
  .object({
    live: z.number().int().describe("Admissions Redis decided"),
    fallback_served: z
      .number()
      .int()
      .describe("Served by the per-isolate fallback (Redis did not answer in time)"),
    fallback_refused: z
      .number()
      .int()
      .describe("Refused by the fallback (fail-closed tier, or its window full)"),
    fallback_rate: z.number().describe("Share of admissions Redis did not decide in time"),
  })
  .describe("This isolate's admissions since it started");
const readySchema = z.object({
  status: z.literal("ready"),
  checks: z.record(z.string(), checkSchema),
  stripe_breaker: breakerSchema,
  admission: admissionSchema,
});

/** Readiness checks get a short budget of their own: a probe must answer fast even when a dependency hangs. */
export const READINESS_TIMEOUT_MS = 1000;

type Check = z.infer<typeof checkSchema>;

async function timedCheck(name: string, probe: (signal: AbortSignal) => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  try {
    await withTimeout(name, READINESS_TIMEOUT_MS, probe);
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    // The reason goes to the log; the probe's answer only says which dependency failed and how.
    log("warn", "readiness check failed", { dependency: name, error: describeError(error) });
    const reason =
      error instanceof Error && error.name === "TimeoutError" ? "timeout" : "unreachable or failing";
    return { ok: false, latency_ms: Math.round(performance.now() - started), error: reason };
  }
}

/** The breaker's shared state for operators; null when Redis cannot say within the readiness budget. */
export async function stripeBreakerState(
  redis: AppBindings["Variables"]["services"]["redis"],
  config: AppBindings["Variables"]["config"],
): Promise<z.infer<typeof breakerSchema>> {
  const breaker = new StripeBreaker(redis, {
    failureThreshold: config.STRIPE_BREAKER_FAILURE_THRESHOLD,
    openSeconds: config.STRIPE_BREAKER_OPEN_SECONDS,
  });
  const reply = await withTimeout("stripe breaker", READINESS_TIMEOUT_MS, () => breaker.read()).catch(
    () => null,
  );
  if (!reply) return null;
  return {
    state: reply.state,
    consecutive_failures: reply.consecutiveFailures,
    open_until: reply.openUntilMs > 0 ? new Date(reply.openUntilMs).toISOString() : null,
  };
}

const liveRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Liveness",
  description: "Answers 200 while the Worker runs; checks nothing else.",
  tags: ["Operations"],
  responses: {
    200: jsonResponse("The Worker is running", liveSchema, { example: { status: "ok" } }),
  },
});

const readyRoute = createRoute({
  method: "get",
  path: "/health/ready",
  summary: "Readiness",
  description: `Checks the configuration (token keys included), then Redis and Postgres, each within ${READINESS_TIMEOUT_MS} ms. 503 names the failing setting or dependency. Also shows the Stripe circuit breaker's state and this isolate's admission fallback rate, neither of which makes the service unready.`,
  tags: ["Operations"],
  responses: {
    200: jsonResponse("Every dependency answered", readySchema, {
      example: {
        status: "ready",
        checks: { redis: { ok: true, latency_ms: 3 }, postgres: { ok: true, latency_ms: 8 } },
        stripe_breaker: { state: "closed", consecutive_failures: 0, open_until: null },
        admission: { live: 1250, fallback_served: 3, fallback_refused: 0, fallback_rate: 0.0024 },
      },
    }),
    503: problemResponse("A dependency (or the configuration) is failing"),
  },
});

export const healthRoutes = newRouter()
  .openapi(liveRoute, (c) => c.json({ status: "ok" as const }, 200))
  .openapi(readyRoute, async (c) => {
    // Token keys are configuration the schema cannot fully check (they must import as keys): a
    // deployment whose keys do not load is misconfigured, not ready.
    const keyProblem = await loadTokenKeys(c.get("config")).then(
      () => undefined,
      (error: unknown) => (error instanceof TokenKeyError ? error.message : "token keys could not be loaded"),
    );
    if (keyProblem) {
      throw new ApiError("SERVICE_MISCONFIGURED", "The service is not configured correctly.", {
        extensions: { problems: [keyProblem] },
      });
    }
    const { redis, db } = c.get("services");
    const [redisCheck, postgresCheck, breaker] = await Promise.all([
      timedCheck("redis", () => redis.ping()),
      timedCheck("postgres", () => db.rpc("health_check")),
      stripeBreakerState(c.get("services").redis, c.get("config")),
    ]);
    const checks = { redis: redisCheck, postgres: postgresCheck };
    const failing = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    if (failing.length > 0) {
      throw new ApiError("DEPENDENCY_UNAVAILABLE", `Not ready: ${failing.join(", ")} unavailable`, {
        extensions: { failing, checks, stripe_breaker: breaker, admission: admissionStats() },
        headers: { "Retry-After": "5" },
      });
    }
    return c.json(
      { status: "ready" as const, checks, stripe_breaker: breaker, admission: admissionStats() },
      200,
    );
  });
