import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppBindings } from "../env";
import { requestShapeProblem } from "../lib/json-body";

/**
 * A router whose routes are declared once, with their OpenAPI description (`createRoute` +
 * `.openapi(route, handler)`). A request that fails a route's schema becomes our RFC 9457
 * BAD_REQUEST, never zod-openapi's default body; routes with their own wording pass a hook.
 */
export const newRouter = ({ trailingSlash = "distinct" }: { trailingSlash?: "distinct" | "ignored" } = {}) =>
  new OpenAPIHono<AppBindings>({
    // The app itself matches `/v1/validate/` as `/v1/validate` (Hono's non-strict mode).
    ...(trailingSlash === "ignored" && { strict: false as const }),
    defaultHook: (result) => {
      if (!result.success) throw requestShapeProblem(result.target, result.error);
    },
  });
