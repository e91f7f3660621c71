import { createRoute, z } from "@hono/zod-openapi";
import { tokenKeysOf } from "../access/token-service";
import { jsonResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";

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

const jwksRoute = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  summary: "Public keys that verify access tokens",
  description:
    "Every configured Ed25519 public key (two during a rotation), public members only. Empty on an HS256 deployment.",
  tags: ["Access"],
  responses: {
    200: jsonResponse("A JSON Web Key Set (RFC 7517)", jwksSchema, {
      example: {
        keys: [
          {
            kty: "OKP",
            crv: "Ed25519",
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            kid: "2026-05",
            alg: "EdDSA",
            use: "sig",
          },
        ],
      },
    }),
  },
});

export const jwksRoutes = newRouter().openapi(jwksRoute, async (c) => {
  const { jwks } = await tokenKeysOf(c.get("config"));
  return c.json(jwks, 200, { "Cache-Control": "public, max-age=300" });
});
