import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../middleware/admin";
import { adminRefusals, dependencyUnavailable, jsonResponse } from "../openapi/responses";
import { newRouter } from "../openapi/router";
import { registryOverview } from "../registry/store";

const overviewResponse = z.object({
  accounts: z.array(
    z.object({
      account_id: z.string(),
      active_schemas: z.number().int(),
      retired_schemas: z.number().int(),
      versions: z.number().int(),
      bytes: z.number().int().describe("Bytes of every stored version (what SCHEMA_REGISTRY_QUOTAS bounds)"),
    }),
  ),
});

const overviewRoute = createRoute({
  method: "get",
  path: "/admin/schemas",
  summary: "Schema registry use per account, largest first (operators)",
  description:
    "Query: `limit` (default 100, at most 1000). Needs ADMIN_TOKEN. Schema contents are never shown here.",
  tags: ["Operations"],
  security: [{ adminToken: [] }],
  middleware: [requireAdmin()] as const,
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
  responses: {
    200: jsonResponse("Accounts using the registry", overviewResponse),
    ...adminRefusals,
    ...dependencyUnavailable(),
  },
});

export const adminSchemaRoutes = newRouter().openapi(overviewRoute, async (c) => {
  const accounts = await registryOverview(c.get("services").db, c.req.valid("query").limit);
  return c.json({ accounts }, 200, { "Cache-Control": "no-store" });
});
