import type { OpenApiDocument } from "../openapi/document";
import { type Audience, documentFor } from "./audiences";
import { codeSamplesOf } from "./code-samples";
import { QUICK_START } from "./quick-start";

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

const DESCRIPTIONS: Record<Audience, string> = {
  customer: QUICK_START,
  operator:
    "Routes for the operator of a Schema Meter deployment: health probes, usage flushing, reconciliation, dead-lettered usage batches, the event log, and the Stripe webhook. They take the `ADMIN_TOKEN` (except the probes and the webhook, which Stripe signs). Customers: see [the API reference](/docs).",
};

/**
 * The document an audience's reference renders and its clients are generated from: its part of
 * the full document, its introduction, and curl / JavaScript / Python samples on every operation.
 */
export function referenceDocument(full: OpenApiDocument, audience: Audience): OpenApiDocument {
  const document = documentFor(full, audience);
  const paths: NonNullable<OpenApiDocument["paths"]> = {};
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const withSamples = { ...item };
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) {
        withSamples[method] = {
          ...operation,
          "x-codeSamples": codeSamplesOf(method, path, operation as never),
        };
      }
    }
    paths[path] = withSamples;
  }
  return { ...document, info: { ...document.info, description: DESCRIPTIONS[audience] }, paths };
}
