import type { ErrorHandler, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import { secureHeaders } from "hono/secure-headers";
import { REFUSAL_CHALLENGES } from "./access/access-refusal";
import { isDatabaseUnavailable } from "./adapters/supabase";
import { API_VERSION, API_VERSION_HEADER } from "./api-version";
import { type Config, ConfigError, loadConfig } from "./config";
import type { AppBindings } from "./env";
import { ApiError, PROBLEM_CONTENT_TYPE, problemBody } from "./errors";
import { waitUntilOf } from "./lib/after-response";
import { describeError, log } from "./lib/log";
import { rateLimitHeaders } from "./metering/rate-limit-headers";
import { allowedMethods } from "./middleware/not-allowed";
import { requestId } from "./middleware/request-id";
import { requestLog } from "./middleware/request-log";
import { reportServerError } from "./observability/error-tracking";
import { buildOpenApiDocument, type OpenApiDocument } from "./openapi/document";
import { newRouter } from "./openapi/router";
import { Refusal } from "./refusal";
import { accountRoutes } from "./routes/account";
import { adminBillingRoutes } from "./routes/admin-billing";
import { adminEventRoutes } from "./routes/admin-events";
import { adminMetricsRoutes } from "./routes/admin-metrics";
import { adminSchemaRoutes } from "./routes/admin-schemas";
import { billingRoutes } from "./routes/billing";
import { consoleRoutes } from "./routes/console";
import { docsRoutes } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { jwksRoutes } from "./routes/jwks";
import { keyRoutes } from "./routes/keys";
import { schemaRoutes } from "./routes/schemas";
import { signupRoutes } from "./routes/signup";
import { tokenRoutes } from "./routes/token";
import { usageRoutes } from "./routes/usage";
import { validateRoutes } from "./routes/validate";
import { webhookRoutes } from "./routes/webhooks";
import { createServices, type ServicesFactory, servicesFor } from "./services";
import { ValidationRefusal } from "./validation/service";

export interface AppOptions {
  /** Builds the outside-world adapters; tests pass fakes or adapters pointed at local servers. */
  services?: ServicesFactory;
}

/**
 * Security headers on every response (nosniff, no framing, no referrer, HSTS) with a strict content
 * security policy: no script at all, inline styles only. The reference pages (/docs) set their own,
 * which allows this origin's renderer script and its nonce'd start-up script, and it is kept.
 */
const SECURITY_HEADERS: NonNullable<Parameters<typeof secureHeaders>[0]> = {
  overwrite: false,
  xFrameOptions: "DENY",
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'unsafe-inline'"],
    imgSrc: ["'self'", "data:"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

/**
 * Answers of the API proper (accounts, tokens, verdicts, operator reports) are per caller and must
 * never be stored by a browser or a shared cache; a route that wants caching (none yet) says so.
 */
const noStoreForApiResponses: MiddlewareHandler<AppBindings> = async (c, next) => {
  await next();
  const path = c.req.path;
  if (
    (path.startsWith("/v1/") || path.startsWith("/admin/") || path.startsWith("/webhooks/")) &&
    !c.res.headers.has("Cache-Control")
  ) {
    c.res.headers.set("Cache-Control", "no-store");
  }
};

/** What a client is told to wait when Postgres is unreachable. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Routes that must answer even when the configuration is broken. */
const CONFIG_FREE_PATHS = new Set([
  "/",
  "/health",
  "/openapi.json",
  "/openapi/operator.json",
  "/docs",
  "/docs/operator",
  "/docs/errors",
]);

/** The request body limit of MAX_BODY_BYTES (413 beyond), built once per configuration. */
const bodyLimits = new WeakMap<Config, MiddlewareHandler<AppBindings>>();
const limitBody: MiddlewareHandler<AppBindings> = (c, next) => {
  const config = c.get("config");
  let limit = bodyLimits.get(config);
  if (!limit) {
    limit = bodyLimit({
      maxSize: config.MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(
          "PAYLOAD_TOO_LARGE",
          `Request bodies are limited to ${config.MAX_BODY_BYTES} bytes.`,
        );
      },
    });
    bodyLimits.set(config, limit);
  }
  return limit(c, next);
};

/**
 * CORS for the configured origins (CORS_ORIGINS), built once per configuration; none configured,
 * none sent. Preflights are answered here; requests carry no credentials (bearer tokens only).
 */
const corsHandlers = new WeakMap<Config, MiddlewareHandler<AppBindings> | null>();
function corsFor(config: Config): MiddlewareHandler<AppBindings> | null {
  let handler = corsHandlers.get(config);
  if (handler === undefined) {
    const origins = config.CORS_ORIGINS;
    handler =
      origins.length === 0
        ? null
        : cors({
            origin: origins.includes("*") ? "*" : (origin) => (origins.includes(origin) ? origin : null),
            allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            exposeHeaders: [
              "X-Request-Id",
              "RateLimit",
              "RateLimit-Policy",
              "Retry-After",
              "Location",
              API_VERSION_HEADER,
            ],
            maxAge: 600,
          });
    corsHandlers.set(config, handler);
  }
  return handler;
}

/** Builds the whole API. Production (`src/index.ts`) and every test use this same factory. */
export function newApp({ services: buildServices = createServices }: AppOptions = {}) {
  const app = newRouter({ trailingSlash: "ignored" });

  app.use(requestId());
  app.use(requestLog());
  app.use(secureHeaders(SECURITY_HEADERS));
  app.use(noStoreForApiResponses);
  app.use(async (c, next) => {
    await next();
    c.res.headers.set(API_VERSION_HEADER, API_VERSION);
  });
  app.use(async (c, next) => {
    let config: Config;
    try {
      config = loadConfig(c.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (CONFIG_FREE_PATHS.has(c.req.path)) return next();
      log("error", "configuration invalid", {
        request_id: c.get("requestId"),
        problems: error.problems.join("; "),
      });
      // Setting names (never values) are shown on the operator's readiness probe only.
      throw new ApiError("SERVICE_MISCONFIGURED", "The service is not configured correctly.", {
        extensions: c.req.path === "/health/ready" ? { problems: error.problems } : {},
      });
    }
    c.set("config", config);
    // Built once per configuration, i.e. once per isolate.
    c.set("services", servicesFor(config, buildServices));
    const cors = corsFor(config);
    if (cors) {
      return cors(c, async () => {
        await limitBody(c, next);
      });
    }
    return limitBody(c, next);
  });

  // Each route is declared once, with its OpenAPI description; /openapi.json lists them all.
  app.route("/", healthRoutes);
  app.route("/", signupRoutes);
  app.route("/", tokenRoutes);
  app.route("/", jwksRoutes);
  app.route("/", accountRoutes);
  app.route("/", usageRoutes);
  app.route("/", keyRoutes);
  app.route("/", validateRoutes);
  app.route("/", schemaRoutes);
  app.route("/", adminSchemaRoutes);
  app.route("/", billingRoutes);
  app.route("/", webhookRoutes);
  app.route("/", adminBillingRoutes);
  app.route("/", adminEventRoutes);
  app.route("/", adminMetricsRoutes);
  // The console shows GET /v1/account as the API answers it, by calling the app itself.
  app.route(
    "/",
    consoleRoutes((request, env, ctx) => Promise.resolve(app.fetch(request, env, ctx))),
  );
  let document: OpenApiDocument | undefined;
  app.route(
    "/",
    docsRoutes(() => {
      document ??= buildOpenApiDocument(app);
      return document;
    }),
  );

  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    // OPTIONS (RFC 9110) names the methods a path takes; CORS preflights are answered above.
    if (c.req.method === "OPTIONS" && allow.length > 0) {
      return c.body(null, 204, { Allow: [...allow, "OPTIONS"].join(", ") });
    }
    if (allow.length > 0) {
      throw new ApiError(
        "METHOD_NOT_ALLOWED",
        `${c.req.method} is not allowed here; use ${allow.join(", ")}.`,
        {
          headers: { Allow: allow.join(", ") },
        },
      );
    }
    throw new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });

  app.onError(renderError);

  return app;
}

/** The one error handler: every error leaves as RFC 9457 problem+json with a code and the request id. */
export const renderError: ErrorHandler<AppBindings> = (error, c) => {
  const apiError = toApiError(error);
  if (apiError.status >= 500) {
    log("error", "request failed", {
      request_id: c.get("requestId"),
      code: apiError.code,
      error: describeError(apiError.cause ?? error),
    });
    reportServerError(c.env, waitUntilOf(c), apiError.cause ?? error, {
      requestId: c.get("requestId") ?? "unknown",
      method: c.req.method,
      route: routeOf(c),
      status: apiError.status,
      code: apiError.code,
    });
  }
  return new Response(JSON.stringify(problemBody(apiError, c.get("requestId") ?? "unknown", c.req.path)), {
    status: apiError.status,
    headers: { "Content-Type": PROBLEM_CONTENT_TYPE, ...apiError.headers },
  });
};

/** The pattern of the route that answered (`/v1/schemas/:name`): the last matched one that is not middleware. */
function routeOf(c: Parameters<ErrorHandler<AppBindings>>[1]): string {
  const routes = matchedRoutes(c);
  for (let index = routes.length - 1; index >= 0; index--) {
    const route = routes[index];
    if (route && route.method !== "ALL") return route.path;
  }
  return "(no route)";
}

/**
 * Anything thrown becomes an ApiError: the one place where domain refusals get their HTTP status,
 * headers and extensions; unknown errors become a bare 500 with no internal detail.
 */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Refusal) {
    const { rateLimit, retryAfterSeconds, extensions, cause } = error.context;
    // RFC 6750: a missing or refused credential gets a challenge saying so.
    const challenge = REFUSAL_CHALLENGES[error.code];
    return new ApiError(error.code, error.detail, {
      headers: {
        ...(rateLimit && rateLimitHeaders(rateLimit)),
        ...(retryAfterSeconds !== undefined && { "Retry-After": String(retryAfterSeconds) }),
        ...(challenge && { "WWW-Authenticate": challenge }),
      },
      extensions,
      cause,
    });
  }
  // A validation request refused without a verdict: 422, and (being non-2xx) not billed.
  if (error instanceof ValidationRefusal) {
    return new ApiError(error.code, error.detail, { extensions: error.extensions });
  }
  // Postgres unreachable: retry shortly, like a Redis outage (never a bare 500).
  if (isDatabaseUnavailable(error)) {
    return new ApiError("DEPENDENCY_UNAVAILABLE", "The database is unreachable right now; retry shortly.", {
      headers: { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) },
      cause: error,
    });
  }
  if (error instanceof HTTPException) {
    // Hono's validator throws this for a body that is not JSON.
    if (error.status === 400) return new ApiError("MALFORMED_JSON", "The request body is not valid JSON.");
    if (error.status === 413) return new ApiError("PAYLOAD_TOO_LARGE");
    if (error.status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE");
  }
  return new ApiError(
    "INTERNAL",
    "Something went wrong on our side; quote the request id when reporting it.",
    {
      cause: error,
    },
  );
}

export type App = ReturnType<typeof newApp>;
