import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { AppBindings } from "../env";
import { requestShapeProblem } from "../lib/json-body";
import { isCheckedElsewhere, jsonBodySchemaOf } from "./checked-by-middleware";

/**
 * A router whose routes are declared once, with their OpenAPI description (`createRoute` +
 * `.openapi(route, handler)`). A request that fails a route's schema becomes our RFC 9457
 * BAD_REQUEST, never zod-openapi's default body; routes with their own wording pass a hook.
 * A request part the route's middleware already checks (see checked-by-middleware.ts) is
 * described in the document and not checked a second time.
 */
export const newRouter = ({
  trailingSlash = "distinct",
}: {
  trailingSlash?: "distinct" | "ignored";
} = {}) => {
  const router = new OpenAPIHono<AppBindings>({
    // The app itself matches `/v1/validate/` as `/v1/validate` (Hono's non-strict mode).
    ...(trailingSlash === "ignored" && { strict: false as const }),
    defaultHook: (result) => {
      if (!result.success) throw requestShapeProblem(result.target, result.error);
    },
  });
  const declare = router.openapi;
  router.openapi = ((route: RouteConfig, handler: never, hook?: never) => {
    const checked = checkedOnce(route);
    if (checked === route) return declare(route, handler, hook);
    // Described in full (as zod-openapi would), declared without the parts checked already.
    const { middleware: _middleware, hide, ...described } = route;
    if (!hide) router.openAPIRegistry.registerPath(described);
    return declare({ ...checked, hide: true }, handler, hook);
  }) as typeof router.openapi;
  return router;
};

/** `route` without the request parts that its middleware checks (the same object when there are none). */
function checkedOnce(route: RouteConfig): RouteConfig {
  const request = route.request;
  if (!request) return route;
  const middleware = [route.middleware ?? []].flat();
  const content = request.body?.content;
  const media = content?.["application/json"];
  const bodySchema = media && "schema" in media ? media.schema : undefined;
  const bodyChecked =
    bodySchema !== undefined &&
    Object.keys(content ?? {}).length === 1 &&
    middleware.some((handler) => jsonBodySchemaOf(handler) === bodySchema);
  const headersChecked = request.headers !== undefined && isCheckedElsewhere(request.headers);
  if (!bodyChecked && !headersChecked) return route;
  const { body, headers, ...rest } = request;
  return {
    ...route,
    request: {
      ...rest,
      ...(!bodyChecked && body && { body }),
      ...(!headersChecked && headers && { headers }),
    },
  };
}
