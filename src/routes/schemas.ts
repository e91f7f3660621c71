import { createRoute, z } from "@hono/zod-openapi";
import { MAX_DEPTH_CEILING } from "../config";
import { canonicalJson } from "../engine";
import { jsonBody, requireJson } from "../lib/json-body";
import { parseJsonInSlices } from "../lib/json-slices";
import { sha256Hex } from "../lib/sha256";
import { admitUsage } from "../middleware/admission";
import { countRefusedRequest } from "../middleware/admission/refused-request";
import { requireCredential } from "../middleware/auth";
import {
  API_KEY_OR_TOKEN,
  bearerRefusals,
  dependencyUnavailable,
  jsonResponse,
  problemResponse,
  rateLimitHeaders,
} from "../openapi/responses";
import { newRouter } from "../openapi/router";
import { Refusal } from "../refusal";
import { compareSchemas } from "../registry/compatibility";
import {
  getSchemaVersion,
  listSchemas,
  publishSchema,
  type RegistryQuota,
  retireSchema,
  SCHEMA_NAME,
  type StoredSchema,
  schemaNotFound,
} from "../registry/store";

const nameParam = z.object({
  name: z
    .string()
    .regex(SCHEMA_NAME, "a schema name is a lower-case slug: a-z, 0-9 and -, 1 to 64 characters")
    .openapi({ param: { name: "name", in: "path" }, example: "orders" }),
});
const versionParams = nameParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "version", in: "path" }, example: 3 }),
});

const schemaBody = z
  .union([z.record(z.string(), z.unknown()), z.boolean()])
  .describe("The JSON Schema to publish, as the body itself");

const changeSchema = z.object({
  location: z.string().describe("JSON Pointer into the new version"),
  kind: z.string().describe("e.g. required_added, type_narrowed, enum_narrowed, bound_tightened"),
  detail: z.string(),
  certain: z.boolean().describe("false where the effect cannot be decided (patterns, references)"),
});
const compatibilitySchema = z
  .object({
    compatible: z.boolean().describe("No change can make a previously valid document invalid"),
    breaking: z.array(changeSchema),
    widening: z.array(changeSchema),
    truncated: z.boolean().optional(),
  })
  .describe("Compared with the previous version; null for a first version");

const versionSummary = z.object({
  name: z.string(),
  version: z.number().int(),
  latest_version: z.number().int(),
  content_hash: z.string().describe("SHA-256 of the schema's canonical JSON (sorted keys)"),
  bytes: z.number().int(),
  published_at: z.string(),
  retired_at: z.string().nullable(),
});
const publishedSchema = versionSummary.extend({
  created: z.boolean().describe("false when the schema equals the latest version: nothing new was stored"),
  compatibility: compatibilitySchema.nullable(),
  warnings: z
    .array(z.record(z.string(), z.unknown()))
    .describe(
      "The schema's warnings (unknown keywords with a did-you-mean, keywords without effect, ...): the same as a validation with it answers",
    ),
  warningsTruncated: z.boolean().optional(),
});
const fullVersion = versionSummary.extend({ schema: z.unknown() });

const protectedRoute = { security: API_KEY_OR_TOKEN, tags: ["Schema registry"] };

const publishRoute = createRoute({
  ...protectedRoute,
  method: "put",
  path: "/v1/schemas/{name}",
  summary: "Publish a new version of a registered schema",
  description:
    "The body is the schema. Checked against its metaschema, stored as the next immutable version (the same content as the latest version stores nothing), with a compatibility report against the previous version. `?require=compatible` refuses a version that can make previously valid documents invalid (409 SCHEMA_INCOMPATIBLE, with the report). Not billed; rate limited with your tier.",
  middleware: [
    requireCredential(),
    countRefusedRequest(),
    requireJson,
    jsonBody(schemaBody),
    admitUsage({ units: 0 }),
  ] as const,
  request: {
    params: nameParam,
    query: z.object({
      require: z
        .enum(["compatible"])
        .optional()
        .describe("`compatible`: refuse a version that can make previously valid documents invalid"),
      strict: z
        .enum(["true", "false"])
        .optional()
        .describe(
          "`true`: refuse a schema with warnings (422 SCHEMA_INVALID), as `strict` does on /v1/validate",
        ),
    }),
    body: { content: { "application/json": { schema: schemaBody } }, required: true },
  },
  responses: {
    201: jsonResponse("A new version", publishedSchema, { headers: rateLimitHeaders }),
    200: jsonResponse("Unchanged: the latest version already has this content", publishedSchema),
    400: problemResponse("The request is malformed (a name that is not a slug, a body that is not JSON)"),
    ...bearerRefusals,
    409: problemResponse(
      "SCHEMA_INCOMPATIBLE (with `compatibility`) or SCHEMA_QUOTA_EXCEEDED (too many schemas for your plan)",
    ),
    410: problemResponse("SCHEMA_RETIRED: the name was retired; publish under a new one"),
    413: problemResponse(
      "SCHEMA_STORAGE_EXCEEDED (your plan's bytes of stored versions) or PAYLOAD_TOO_LARGE",
    ),
    415: problemResponse("UNSUPPORTED_MEDIA_TYPE: the body is not sent as JSON"),
    422: problemResponse("SCHEMA_INVALID or SCHEMA_UNRESOLVABLE: the schema cannot be used"),
    ...dependencyUnavailable(),
  },
});

const listRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/v1/schemas",
  summary: "Your registered schemas with their latest versions",
  middleware: [requireCredential(), admitUsage({ units: 0, bucket: "reads" })] as const,
  responses: {
    200: jsonResponse("Every name, retired ones marked", z.object({ schemas: z.array(versionSummary) }), {
      headers: rateLimitHeaders,
    }),
    ...bearerRefusals,
    ...dependencyUnavailable(),
  },
});

const getResponses = {
  200: jsonResponse("The version and its schema; ETag is its content hash", fullVersion, {
    headers: rateLimitHeaders,
  }),
  304: { description: "Not modified (If-None-Match matched the ETag)" },
  ...bearerRefusals,
  404: problemResponse("SCHEMA_NOT_FOUND"),
  ...dependencyUnavailable(),
};

const latestRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/v1/schemas/{name}",
  summary: "The latest version of a registered schema",
  description: "Retired names stay readable (with `retired_at`).",
  middleware: [requireCredential(), admitUsage({ units: 0, bucket: "reads" })] as const,
  request: { params: nameParam },
  responses: getResponses,
});

const versionRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/v1/schemas/{name}/versions/{version}",
  summary: "One version of a registered schema",
  middleware: [requireCredential(), admitUsage({ units: 0, bucket: "reads" })] as const,
  request: { params: versionParams },
  responses: getResponses,
});

const retireRoute = createRoute({
  ...protectedRoute,
  method: "delete",
  path: "/v1/schemas/{name}",
  summary: "Retire a registered schema",
  description:
    "Validation by the name answers 410 SCHEMA_RETIRED from then on (within SCHEMA_LATEST_TTL_SECONDS everywhere) and no new version can be published under it; its versions stay readable, and it no longer counts against your plan's number of schemas (its bytes do).",
  middleware: [requireCredential(), admitUsage({ units: 0 })] as const,
  request: { params: nameParam },
  responses: {
    200: jsonResponse(
      "Retired",
      z.object({ name: z.string(), retired_at: z.string(), latest_version: z.number().int() }),
      { headers: rateLimitHeaders },
    ),
    ...bearerRefusals,
    404: problemResponse("SCHEMA_NOT_FOUND"),
    ...dependencyUnavailable(),
  },
});

const etagOf = (stored: StoredSchema) => `"${stored.content_hash}"`;

/** A stored document, parsed sharing the thread (it may be MiBs); it passed the depth limit when published. */
const parseStored = (document: string) => parseJsonInSlices(document, { maxDepth: MAX_DEPTH_CEILING });

async function versionBody(stored: StoredSchema) {
  const { document, ...summary } = stored;
  return { ...summary, schema: await parseStored(document) };
}

/** Whether If-None-Match names `etag` (weak or strong): the client has this version. */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

export const schemaRoutes = newRouter()
  .openapi(publishRoute, async (c) => {
    const { name } = c.req.valid("param");
    const schema = c.req.valid("json");
    const account = c.get("auth").sub;
    const { db, validation, registry } = c.get("services");
    const previous = await getSchemaVersion(db, account, { name });
    const query = c.req.valid("query");
    const { warnings, warningsTruncated } = await validation.checkRegisteredSchema(schema, {
      account,
      name,
      version: (previous?.latest_version ?? 0) + 1,
      strict: query.strict === "true",
    });
    const compatibility = previous ? compareSchemas(await parseStored(previous.document), schema) : null;
    if (compatibility && !compatibility.compatible && query.require === "compatible") {
      throw new Refusal(
        "SCHEMA_INCOMPATIBLE",
        `This version can make documents valid under ${name}@${previous?.version} invalid (${compatibility.breaking.length} breaking change(s)); nothing was published.`,
        { extensions: { compatibility } },
      );
    }
    const tier = c.get("admission").rateLimit.policy;
    const published = await publishSchema(
      db,
      account,
      { name, document: JSON.stringify(schema), contentHash: await sha256Hex(canonicalJson(schema)) },
      quotaFor(c.get("config").SCHEMA_REGISTRY_QUOTAS, tier),
    );
    registry.forget(account, name);
    const body = {
      ...published,
      compatibility: published.created ? compatibility : null,
      warnings,
      ...(warningsTruncated && { warningsTruncated }),
    };
    if (!published.created) return c.json(body, 200);
    c.header("Location", `/v1/schemas/${name}/versions/${published.version}`);
    return c.json(body, 201);
  })
  .openapi(listRoute, async (c) => {
    const schemas = await listSchemas(c.get("services").db, c.get("auth").sub);
    return c.json({ schemas }, 200);
  })
  .openapi(latestRoute, async (c) => {
    const { name } = c.req.valid("param");
    const stored = await getSchemaVersion(c.get("services").db, c.get("auth").sub, { name });
    if (!stored) throw schemaNotFound({ name });
    const etag = etagOf(stored);
    if (notModified(c.req.header("If-None-Match"), etag)) return c.body(null, 304, { ETag: etag });
    return c.json(await versionBody(stored), 200, { ETag: etag });
  })
  .openapi(versionRoute, async (c) => {
    const id = c.req.valid("param");
    const stored = await getSchemaVersion(c.get("services").db, c.get("auth").sub, id);
    if (!stored) throw schemaNotFound(id);
    const etag = etagOf(stored);
    if (notModified(c.req.header("If-None-Match"), etag)) return c.body(null, 304, { ETag: etag });
    return c.json(await versionBody(stored), 200, { ETag: etag });
  })
  .openapi(retireRoute, async (c) => {
    const { name } = c.req.valid("param");
    const account = c.get("auth").sub;
    const retired = await retireSchema(c.get("services").db, account, name);
    if (!retired) throw schemaNotFound({ name });
    c.get("services").registry.forget(account, name);
    return c.json(retired, 200);
  });

/** A tier's registry quota; a tier missing from SCHEMA_REGISTRY_QUOTAS gets the smallest one. */
function quotaFor(quotas: Record<string, RegistryQuota>, tier: string): RegistryQuota {
  return (
    quotas[tier] ?? Object.values(quotas).sort((a, b) => a.bytes - b.bytes)[0] ?? { schemas: 0, bytes: 0 }
  );
}
