/** Event and webhook endpoint objects, shaped like the fixtures' `event` and `webhook_endpoint`. */
import type { Metadata } from "./catalog";

/** The API version stripe-node 23.1 pins; events are rendered in it unless told otherwise. */
export const DEFAULT_API_VERSION = "2026-10-28.endive";

export interface EventRequest {
  id: string | null;
  idempotency_key: string | null;
}

export interface StripeEvent {
  id: string;
  object: "event";
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: EventRequest;
  type: string;
}

export function eventObject(init: {
  id: string;
  type: string;
  created: number;
  apiVersion: string | null;
  object: object;
  previousAttributes?: object;
  pendingWebhooks: number;
  request?: EventRequest;
}): StripeEvent {
  // A snapshot: later changes to the resource must not leak into an already-created event.
  const snapshot = structuredClone(init.object) as Record<string, unknown>;
  return {
    id: init.id,
    object: "event",
    api_version: init.apiVersion,
    created: init.created,
    data: {
      object: snapshot,
      ...(init.previousAttributes && {
        previous_attributes: structuredClone(init.previousAttributes) as Record<string, unknown>,
      }),
    },
    livemode: false,
    pending_webhooks: init.pendingWebhooks,
    request: init.request ?? { id: null, idempotency_key: null },
    type: init.type,
  };
}

export interface WebhookEndpoint {
  id: string;
  object: "webhook_endpoint";
  api_version: string | null;
  created: number;
  description: string | null;
  enabled_events: string[];
  metadata: Metadata;
  /** Only returned by the create call, as Stripe does; kept here to sign deliveries. */
  secret: string;
  status: "enabled" | "disabled";
  url: string;
  [field: string]: unknown;
}

export function webhookEndpointObject(init: {
  id: string;
  created: number;
  url: string;
  enabledEvents: string[];
  secret: string;
  description?: string;
  metadata?: Metadata;
  apiVersion?: string;
}): WebhookEndpoint {
  return {
    id: init.id,
    object: "webhook_endpoint",
    api_version: init.apiVersion ?? null,
    application: null,
    created: init.created,
    description: init.description ?? null,
    enabled_events: init.enabledEvents,
    livemode: false,
    metadata: init.metadata ?? {},
    secret: init.secret,
    status: "enabled",
    url: init.url,
  };
}

/** The endpoint as Stripe shows it after creation: without its secret. */
export function publicWebhookEndpoint(endpoint: WebhookEndpoint): Omit<WebhookEndpoint, "secret"> {
  const { secret: _secret, ...rest } = endpoint;
  return rest;
}
