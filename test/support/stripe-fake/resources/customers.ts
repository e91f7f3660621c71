/** `/v1/customers`: create, retrieve, update, list (filter by `email`), delete. */
import { noSuchResource, StripeApiError } from "../errors";
import { newId } from "../ids";
import { listResponse } from "../list";
import { type Customer, customerObject } from "../objects/catalog";
import { mergeMetadata, metadataParam, optionalString } from "../params";
import type { ApiHandler, FakeContext } from "../state";

export function requireCustomer(ctx: FakeContext, id: string, param = "id", status = 404): Customer {
  const customer = ctx.store.customers.get(id);
  if (!customer) throw noSuchResource("customer", id, param, status);
  return customer;
}

export const createCustomer: ApiHandler = (ctx, { params, request }) => {
  const id = optionalString(params, "id") ?? newId("cus_", 14);
  if (ctx.store.customers.has(id)) {
    throw new StripeApiError(400, "invalid_request_error", "Customer already exists.", {
      code: "resource_already_exists",
      param: "id",
    });
  }
  const customer = customerObject({
    id,
    created: ctx.clock.nowSeconds(),
    email: optionalString(params, "email"),
    name: optionalString(params, "name"),
    description: optionalString(params, "description"),
    phone: optionalString(params, "phone"),
    metadata: metadataParam(params),
  });
  ctx.store.customers.set(id, customer);
  ctx.emit("customer.created", customer, { request });
  return customer;
};

export const retrieveCustomer: ApiHandler = (ctx, { pathParams: [id = ""] }) => {
  // Stripe still answers for a deleted customer, with the `deleted_customer` shape.
  if (ctx.store.deletedCustomers.has(id)) return { id, object: "customer", deleted: true };
  return requireCustomer(ctx, id);
};

export const updateCustomer: ApiHandler = (ctx, { params, pathParams: [id = ""], request }) => {
  const customer = requireCustomer(ctx, id);
  const previous: Record<string, unknown> = {};
  for (const field of ["email", "name", "description", "phone"] as const) {
    const value = optionalString(params, field);
    if (value === undefined) continue;
    previous[field] = customer[field] ?? null;
    customer[field] = value === "" ? null : value;
  }
  if (params.metadata !== undefined) {
    previous.metadata = customer.metadata;
    customer.metadata = mergeMetadata(customer.metadata, metadataParam(params));
  }
  ctx.emit("customer.updated", customer, { previousAttributes: previous, request });
  return customer;
};

export const deleteCustomer: ApiHandler = (ctx, { pathParams: [id = ""], request }) => {
  const customer = requireCustomer(ctx, id);
  ctx.store.customers.delete(id);
  ctx.store.deletedCustomers.add(id);
  ctx.emit("customer.deleted", customer, { request });
  return { id, object: "customer", deleted: true };
};

export const listCustomers: ApiHandler = (ctx, { params }) => {
  const email = optionalString(params, "email");
  const rows = [...ctx.store.customers.values()].filter((c) => email === undefined || c.email === email);
  return listResponse("/v1/customers", rows, params);
};
