import { Hono } from "hono";
import { z } from "zod";
import { tokenKeysOf } from "../auth/token-service";
import type { AppBindings } from "../env";
import type { RouteDoc } from "../openapi/registry";

const jwksSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.string(),
      crv: z.string(),
      x: z.string(),
      kid: z.string(),
      alg: z.string(),
      use: z.string(),
    }),
  ),
});

export const jwksRoutes = new Hono<AppBindings>().get("/.well-known/jwks.json", async (c) => {
  const { jwks } = await tokenKeysOf(c.get("config"));
  return c.json(jwks, 200, { "Cache-Control": "public, max-age=300" });
});

export const jwksDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/.well-known/jwks.json",
    summary: "Public keys that verify access tokens",
    description:
      "Every configured Ed25519 public key (two during a rotation), public members only. Empty on an HS256 deployment.",
    tags: ["Access"],
    responses: { 200: { description: "A JSON Web Key Set (RFC 7517)", schema: jwksSchema } },
  },
];
