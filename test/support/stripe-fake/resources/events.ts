/** `/v1/events` (retrieve, list by `type`) and `/v1/webhook_endpoints` (the delivery registry). */
import { invalidParam, missingParam, noSuchResource } from "../errors";
import { newId, newWebhookSecret } from "../ids";
import { listResponse } from "../list";
import { publicWebhookEndpoint, type WebhookEndpoint, webhookEndpointObject } from "../objects/events";
import {
  mergeMetadata,
  metadataParam,
  optionalArray,
  optionalBoolean,
  optionalString,
  requiredString,
} from "../params";
import type { ApiHandler, FakeContext } from "../state";

export const retrieveEvent: ApiHandler = (ctx, { pathParams: [id = ""] }) => {
  const event = ctx.store.events.get(id);
  if (!event) throw noSuchResource("event", id);
  return event;
};

export const listEvents: ApiHandler = (ctx, { params }) => {
  const type = optionalString(params, "type");
  const types = optionalArray(params, "types");
  // `type` accepts a trailing wildcard, e.g. `customer.subscription.*`.
  const matches = (eventType: string) =>
    (type === undefined ||
      (type.endsWith("*") ? eventType.startsWith(type.slice(0, -1)) : eventType === type)) &&
    (!types || types.includes(eventType));
  const rows = [...ctx.store.events.values()].filter((event) => matches(event.type));
  return listResponse("/v1/events", rows, params);
};

function requireEndpoint(ctx: FakeContext, id: string): WebhookEndpoint {
  const endpoint = ctx.store.webhookEndpoints.get(id);
  if (!endpoint) throw noSuchResource("webhook endpoint", id);
  return endpoint;
}

function enabledEventsParam(params: Parameters<ApiHandler>[1]["params"]): string[] | undefined {
  const events = optionalArray(params, "enabled_events");
  if (!events) return undefined;
  if (events.some((event) => typeof event !== "string")) {
    throw invalidParam("enabled_events", "enabled_events must be a list of event types.");
  }
  return events as string[];
}

export const createWebhookEndpoint: ApiHandler = (ctx, { params }) => {
  const url = requiredString(params, "url");
  if (!/^https?:\/\//.test(url)) throw invalidParam("url", `Invalid URL: ${url}`, "url_invalid");
  const enabledEvents = enabledEventsParam(params);
  if (!enabledEvents || enabledEvents.length === 0) throw missingParam("enabled_events");
  // Each endpoint gets its own signing secret, returned once, on creation.
  const endpoint = webhookEndpointObject({
    id: newId("we_"),
    created: ctx.clock.nowSeconds(),
    url,
    enabledEvents,
    secret: newWebhookSecret(),
    description: optionalString(params, "description"),
    metadata: metadataParam(params),
    apiVersion: optionalString(params, "api_version"),
  });
  ctx.store.webhookEndpoints.set(endpoint.id, endpoint);
  return endpoint;
};

export const retrieveWebhookEndpoint: ApiHandler = (ctx, { pathParams: [id = ""] }) =>
  publicWebhookEndpoint(requireEndpoint(ctx, id));

export const listWebhookEndpoints: ApiHandler = (ctx, { params }) =>
  listResponse(
    "/v1/webhook_endpoints",
    [...ctx.store.webhookEndpoints.values()].map(publicWebhookEndpoint),
    params,
  );

export const updateWebhookEndpoint: ApiHandler = (ctx, { params, pathParams: [id = ""] }) => {
  const endpoint = requireEndpoint(ctx, id);
  const url = optionalString(params, "url");
  if (url) endpoint.url = url;
  const enabledEvents = enabledEventsParam(params);
  if (enabledEvents) endpoint.enabled_events = enabledEvents;
  const disabled = optionalBoolean(params, "disabled");
  if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
  if (params.metadata !== undefined)
    endpoint.metadata = mergeMetadata(endpoint.metadata, metadataParam(params));
  return publicWebhookEndpoint(endpoint);
};

export const deleteWebhookEndpoint: ApiHandler = (ctx, { pathParams: [id = ""] }) => {
  requireEndpoint(ctx, id);
  ctx.store.webhookEndpoints.delete(id);
  return { id, object: "webhook_endpoint", deleted: true };
};
