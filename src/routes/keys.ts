import { createRoute, z } from "@hono/zod-openapi";
import {
  type AccountKey,
  createAccountKey,
  listAccountKeys,
  MAX_ACTIVE_KEYS,
  MAX_ROLL_OVERLAP_SECONDS,
  revokeAccountKey,
  rollAccountKey,
} from "../access/key-management";
import { ApiError } from "../errors";
import { jsonBody, requestShapeProblem, requireJson } from "../lib/json-body";
import { admitUsage } from "../middleware/admission";
import { countRefusedRequest } from "../middleware/admission/refused-request";
import { requireCredential } from "../middleware/auth";
import {
  API_KEY_OR_TOKEN,
  bearerRefusals,
  dependencyUnavailable,
  jsonRequest,
  jsonResponse,
  problemResponse,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";

const keySchema = z.object({
  id: z.string(),
  prefix: z.string().describe("The visible start of the key (`sm_…`); never the secret"),
  name: z.string(),
  state: z.enum(["active", "expired", "revoked"]),
  created_at: z.string(),
  expires_at: z.string().nullable().describe("When the key stops working (UTC); null: never"),
  last_used_at: z
    .string()
    .nullable()
    .describe("Last exchange for a token or Postgres lookup of the key: accurate to about an hour"),
  revoked_at: z.string().nullable(),
  replaced_by: z.string().nullable().describe("The key a roll created in its place"),
});

const withSecret = z.object({
  key: keySchema,
  secret: z
    .string()
    .describe("The API key in full: shown once, never stored; send it as Authorization: Bearer"),
});

const keyParams = z.object({
  id: z
    .string()
    .regex(/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|sm_[a-z0-9]{10})$/)
    .describe("The key's id, or its prefix (`sm_…`)"),
});

/** A future UTC instant, at most ten years ahead. */
const expiresAt = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) > Date.now(), "must be in the future")
  .refine((value) => Date.parse(value) < Date.now() + 10 * 365 * 86_400_000, "must be within ten years")
  .nullable()
  .default(null)
  .describe("When the key stops working (ISO 8601); omitted or null: never");

const createBody = z
  .object({
    name: z.string().trim().min(1).max(64).default("default").describe("A label for listings"),
    expires_at: expiresAt,
  })
  .strict();

const rollBody = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_ROLL_OVERLAP_SECONDS)
      .default(0)
      .describe("How long the old key keeps working (0: revoked at once, with its tokens; at most 7 days)"),
    expires_at: expiresAt.describe("When the new key stops working; omitted or null: never"),
  })
  .strict();

const stateOf = (key: AccountKey): z.infer<typeof keySchema>["state"] => {
  if (key.revoked_at !== null) return "revoked";
  if (key.expires_at !== null && Date.parse(key.expires_at) <= Date.now()) return "expired";
  return "active";
};

const toKey = (key: AccountKey): z.infer<typeof keySchema> => ({
  id: key.key_id,
  prefix: key.key_prefix,
  name: key.name,
  state: stateOf(key),
  created_at: key.created_at,
  expires_at: key.expires_at,
  last_used_at: key.last_used_at,
  revoked_at: key.revoked_at,
  replaced_by: key.replaced_by,
});

const example = {
  id: "5b0e9c1a-3f2d-4c8b-9a7e-1d2c3b4a5f60",
  prefix: "sm_3f9a1c2b7d",
  name: "ci",
  state: "active" as const,
  created_at: "2026-05-01T12:00:00.000Z",
  expires_at: null,
  last_used_at: "2026-05-02T08:00:00.000Z",
  revoked_at: null,
  replaced_by: null,
};
const secretExample = "sm_3f9a1c2b7d_q8VtY0sXr1m2N3b4V5c6X7z8A9s0D1f2G3h4J5k6L7m";

const management = "Rate limited with the caller's tier; not billed.";
const refusals = { ...bearerRefusals, ...dependencyUnavailable() };
const notFound = { 404: problemResponse("NOT_FOUND: this account has no such key") };

const listRoute = createRoute({
  method: "get",
  path: "/v1/keys",
  summary: "The account's API keys",
  description: `Newest first, revoked and expired ones included; never a secret. ${management}`,
  tags: ["Keys"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0, bucket: "reads" })] as const,
  responses: {
    200: jsonResponse("The keys", z.object({ keys: z.array(keySchema) }), {
      example: { keys: [example] },
      headers: rateLimitHeaders,
    }),
    ...refusals,
  },
});

const createKeyRoute = createRoute({
  method: "post",
  path: "/v1/keys",
  summary: "Create an API key",
  description: `The secret is in the response, once (only its hash is kept). At most ${MAX_ACTIVE_KEYS} active keys per account. ${management}`,
  tags: ["Keys"],
  security: API_KEY_OR_TOKEN,
  middleware: [
    requireCredential(),
    countRefusedRequest(),
    requireJson,
    jsonBody(createBody),
    admitUsage({ units: 0 }),
  ] as const,
  request: { body: jsonRequest(createBody, { name: "ci", expires_at: "2027-01-01T00:00:00Z" }) },
  responses: {
    201: jsonResponse("Created; the secret is shown this once", withSecret, {
      example: { key: { ...example, last_used_at: null }, secret: secretExample },
      headers: rateLimitHeaders.extend({ Location: z.string().describe("/v1/keys/{id}") }),
    }),
    400: problemResponse("The body is not `{name?, expires_at?}` with a future expiry"),
    409: problemResponse("API_KEY_LIMIT_REACHED: delete a key first"),
    415: problemResponse("UNSUPPORTED_MEDIA_TYPE: the body is not sent as JSON"),
    ...refusals,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/keys/{id}",
  summary: "One of the account's API keys",
  description: `Never its secret. ${management}`,
  tags: ["Keys"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0, bucket: "reads" })] as const,
  request: { params: keyParams },
  responses: {
    200: jsonResponse("The key", z.object({ key: keySchema }), { example: { key: example } }),
    ...notFound,
    ...refusals,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/keys/{id}",
  summary: "Revoke an API key",
  description: `Refused from the next request on, with every token minted from it. Repeating it changes nothing. The account's last key without an expiry cannot be revoked (roll it instead). ${management}`,
  tags: ["Keys"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0 })] as const,
  request: { params: keyParams },
  responses: {
    200: jsonResponse("Revoked", z.object({ key: keySchema }), {
      example: { key: { ...example, state: "revoked", revoked_at: "2026-05-03T09:30:00.000Z" } },
    }),
    ...notFound,
    409: problemResponse("API_KEY_LAST_ACTIVE: the account's last way in; create another key first"),
    ...refusals,
  },
});

const rollRoute = createRoute({
  method: "post",
  path: "/v1/keys/{id}/roll",
  summary: "Roll an API key: a new secret, the old one valid for an overlap",
  description: `A new key with the same name replaces this one. The old key keeps working for \`overlap_seconds\` (default 0: revoked at once, with its tokens), then is refused as expired (tokens minted from it before the roll keep their own expiry). The body is optional. ${management}`,
  tags: ["Keys"],
  security: API_KEY_OR_TOKEN,
  middleware: [requireCredential(), admitUsage({ units: 0 })] as const,
  request: {
    params: keyParams,
    body: { ...jsonRequest(rollBody, { overlap_seconds: 3600 }), required: false },
  },
  responses: {
    201: jsonResponse("Rolled; the new secret is shown this once", withSecret.extend({ old: keySchema }), {
      example: {
        key: { ...example, last_used_at: null },
        secret: secretExample,
        old: {
          ...example,
          id: "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
          expires_at: "2026-05-03T10:30:00.000Z",
        },
      },
      headers: z.object({ Location: z.string().describe("/v1/keys/{new id}") }),
    }),
    400: problemResponse("The body is not `{overlap_seconds?, expires_at?}`"),
    ...notFound,
    ...refusals,
  },
});

/** The optional roll body: none (or empty) means the defaults. */
async function rollOptions(text: string): Promise<z.infer<typeof rollBody>> {
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError("MALFORMED_JSON", "The request body is not valid JSON.");
    }
  }
  const parsed = rollBody.safeParse(value);
  if (!parsed.success) throw requestShapeProblem("json", parsed.error);
  return parsed.data;
}

const created = (key: AccountKey) => ({ "Cache-Control": "no-store", Location: `/v1/keys/${key.key_id}` });

export const keyRoutes = newRouter()
  .openapi(listRoute, async (c) => {
    const keys = await listAccountKeys(c.get("services").db, c.get("auth").sub);
    return c.json({ keys: keys.map(toKey) }, 200);
  })
  .openapi(createKeyRoute, async (c) => {
    const body = c.req.valid("json");
    const { key, secret } = await createAccountKey(c.get("services"), {
      accountId: c.get("auth").sub,
      name: body.name,
      expiresAt: body.expires_at,
    });
    return c.json({ key: toKey(key), secret }, 201, created(key));
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const keys = await listAccountKeys(c.get("services").db, c.get("auth").sub);
    const key = keys.find((candidate) => candidate.key_id === id || candidate.key_prefix === id);
    if (!key) throw new ApiError("NOT_FOUND", `This account has no key ${id}.`);
    return c.json({ key: toKey(key) }, 200);
  })
  .openapi(deleteRoute, async (c) => {
    const key = await revokeAccountKey(c.get("services"), {
      accountId: c.get("auth").sub,
      key: c.req.valid("param").id,
    });
    return c.json({ key: toKey(key) }, 200);
  })
  .openapi(rollRoute, async (c) => {
    const options = await rollOptions(await c.req.text());
    const rolled = await rollAccountKey(c.get("services"), {
      accountId: c.get("auth").sub,
      key: c.req.valid("param").id,
      overlapSeconds: options.overlap_seconds,
      expiresAt: options.expires_at,
    });
    return c.json(
      { key: toKey(rolled.key), secret: rolled.secret, old: toKey(rolled.old) },
      201,
      created(rolled.key),
    );
  });
