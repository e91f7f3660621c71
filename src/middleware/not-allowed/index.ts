import type { Hono } from "hono";
import type { AppBindings } from "../../env";

/** `/v1/keys/:id` → a RegExp matching concrete paths; `*` matches anything. */
function pathPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}/?$`);
}

/**
 * Hono answers an unmatched method with 404; HTTP says 405 with an `Allow` header when the path
 * exists for other methods. Returns those methods (empty when the path is unknown).
 */
export function allowedMethods(app: Hono<AppBindings>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    // Middleware is registered as method ALL; it does not make a path exist.
    if (route.method === "ALL" || route.path.includes("*")) continue;
    if (pathPattern(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
