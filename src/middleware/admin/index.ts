import { createMiddleware } from "hono/factory";
import { bearerCredentials } from "../../access/bearer";
import type { BindingsWith } from "../../env";
import { ApiError } from "../../errors";

/** Compares in time independent of where the inputs differ, so the token cannot be guessed byte by byte. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

/** What `requireAdmin` puts on `c.var`. */
export interface AdminVariables {
  subject: "admin";
}

/**
 * Operator endpoints: `Authorization: Bearer <ADMIN_TOKEN>`. When ADMIN_TOKEN is not configured
 * the endpoints answer 404 (they do not exist for this deployment) rather than accept anyone.
 */
export const requireAdmin = () =>
  createMiddleware<BindingsWith<AdminVariables>>(async (c, next) => {
    const expected = c.get("config").ADMIN_TOKEN;
    if (!expected) throw new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
    const given = bearerCredentials(c.req.header("Authorization"));
    if (!given || !(await sameSecret(given, expected))) {
      throw new ApiError("AUTH_REQUIRED", "Operator endpoints need the admin token.", {
        headers: { "WWW-Authenticate": 'Bearer realm="admin"' },
      });
    }
    c.set("subject", "admin");
    await next();
  });
