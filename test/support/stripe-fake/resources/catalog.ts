/** `/v1/products` and `/v1/prices`, with the rules `stripe:setup` depends on (lookup keys, metered prices). */
import { invalidParam, missingParam, noSuchResource, StripeApiError } from "../errors";
import type { FormObject } from "../form";
import { newId } from "../ids";
import { listResponse } from "../list";
import {
  type Price,
  type PriceRecurring,
  type Product,
  priceObject,
  productObject,
} from "../objects/catalog";
import {
  mergeMetadata,
  metadataParam,
  oneOf,
  optionalArray,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalString,
  requiredString,
} from "../params";
import type { ApiHandler, FakeContext } from "../state";

function requireProduct(ctx: FakeContext, id: string, param = "id", status = 404): Product {
  const product = ctx.store.products.get(id);
  if (!product) throw noSuchResource("product", id, param, status);
  return product;
}

function requirePrice(ctx: FakeContext, id: string, param = "id", status = 404): Price {
  const price = ctx.store.prices.get(id);
  if (!price) throw noSuchResource("price", id, param, status);
  return price;
}

export const createProduct: ApiHandler = (ctx, { params, request }) => {
  // Stripe lets callers choose a product id, which makes setup scripts idempotent.
  const id = optionalString(params, "id") ?? newId("prod_", 14);
  if (ctx.store.products.has(id)) {
    throw new StripeApiError(400, "invalid_request_error", "Product already exists.", {
      code: "resource_already_exists",
      param: "id",
    });
  }
  const product = productObject({
    id,
    created: ctx.clock.nowSeconds(),
    name: requiredString(params, "name"),
    active: optionalBoolean(params, "active"),
    description: optionalString(params, "description"),
    metadata: metadataParam(params),
    unitLabel: optionalString(params, "unit_label"),
  });
  ctx.store.products.set(id, product);
  ctx.emit("product.created", product, { request });
  return product;
};

export const retrieveProduct: ApiHandler = (ctx, { pathParams: [id = ""] }) => requireProduct(ctx, id);

export const updateProduct: ApiHandler = (ctx, { params, pathParams: [id = ""], request }) => {
  const product = requireProduct(ctx, id);
  const previous: Record<string, unknown> = {};
  const name = optionalString(params, "name");
  if (name !== undefined) [previous.name, product.name] = [product.name, name];
  const active = optionalBoolean(params, "active");
  if (active !== undefined) [previous.active, product.active] = [product.active, active];
  const defaultPrice = optionalString(params, "default_price");
  if (defaultPrice !== undefined) {
    const price = requirePrice(ctx, defaultPrice, "default_price", 400);
    if (price.product !== id) {
      throw invalidParam("default_price", "The default price must belong to this product.");
    }
    [previous.default_price, product.default_price] = [product.default_price, defaultPrice];
  }
  if (params.metadata !== undefined) {
    previous.metadata = product.metadata;
    product.metadata = mergeMetadata(product.metadata, metadataParam(params));
  }
  product.updated = ctx.clock.nowSeconds();
  ctx.emit("product.updated", product, { previousAttributes: previous, request });
  return product;
};

export const listProducts: ApiHandler = (ctx, { params }) => {
  const active = optionalBoolean(params, "active");
  const ids = optionalArray(params, "ids");
  const rows = [...ctx.store.products.values()].filter(
    (p) => (active === undefined || p.active === active) && (!ids || ids.includes(p.id)),
  );
  return listResponse("/v1/products", rows, params);
};

function recurringParam(ctx: FakeContext, params: FormObject): PriceRecurring | null {
  const recurring = optionalObject(params, "recurring");
  if (!recurring) return null;
  const interval = oneOf(
    requiredString(recurring, "interval", "recurring[interval]"),
    ["day", "week", "month", "year"] as const,
    "recurring[interval]",
  );
  const usageType = oneOf(
    optionalString(recurring, "usage_type", "recurring[usage_type]") ?? "licensed",
    ["licensed", "metered"] as const,
    "recurring[usage_type]",
  );
  const meter = optionalString(recurring, "meter", "recurring[meter]") ?? null;
  // API 2025-03-31.basil removed legacy usage-based billing: a metered price must name a meter.
  if (usageType === "metered" && !meter) {
    throw invalidParam(
      "recurring[meter]",
      "Metered prices must be backed by a billing meter: pass recurring[meter] (legacy usage-based prices were removed in 2025-03-31.basil).",
    );
  }
  if (meter && usageType !== "metered") {
    throw invalidParam(
      "recurring[meter]",
      "recurring[meter] can only be set when recurring[usage_type] is metered.",
    );
  }
  if (meter && !ctx.store.meters.has(meter))
    throw noSuchResource("billing meter", meter, "recurring[meter]", 400);
  return {
    interval,
    interval_count: optionalInteger(recurring, "interval_count", "recurring[interval_count]") ?? 1,
    meter,
    usage_type: usageType,
    trial_period_days: null,
  };
}

/** Lookup keys are unique among prices; `transfer_lookup_key=true` moves one, as Stripe documents. */
function claimLookupKey(ctx: FakeContext, lookupKey: string, transfer: boolean, claimant: string) {
  if (lookupKey.length > 200) throw invalidParam("lookup_key", "lookup_key can be at most 200 characters.");
  const holder = [...ctx.store.prices.values()].find((p) => p.lookup_key === lookupKey && p.id !== claimant);
  if (!holder) return;
  if (!transfer) {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      `A price (\`${holder.id}\`) already uses that lookup key. Pass transfer_lookup_key=true to move it.`,
      { param: "lookup_key" },
    );
  }
  holder.lookup_key = null;
}

export const createPrice: ApiHandler = (ctx, { params, request }) => {
  const currency = requiredString(params, "currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidParam("currency", `Invalid currency: ${currency}`);
  let productId = optionalString(params, "product");
  const productData = optionalObject(params, "product_data");
  if (!productId && productData) {
    const product = createProduct(ctx, { params: productData, pathParams: [], request }) as Product;
    productId = product.id;
  }
  if (!productId) throw missingParam("product");
  requireProduct(ctx, productId, "product", 400);
  const unitAmount = optionalInteger(params, "unit_amount");
  const unitAmountDecimal = optionalString(params, "unit_amount_decimal");
  if (unitAmount === undefined && !unitAmountDecimal) throw missingParam("unit_amount");
  if (unitAmount !== undefined && unitAmount < 0)
    throw invalidParam("unit_amount", "unit_amount must be >= 0.");
  const recurring = recurringParam(ctx, params);
  const id = newId("price_");
  const lookupKey = optionalString(params, "lookup_key");
  if (lookupKey) claimLookupKey(ctx, lookupKey, optionalBoolean(params, "transfer_lookup_key") ?? false, id);
  const price = priceObject({
    id,
    created: ctx.clock.nowSeconds(),
    currency,
    product: productId,
    unitAmountDecimal: unitAmount !== undefined ? String(unitAmount) : (unitAmountDecimal as string),
    recurring,
    lookupKey,
    nickname: optionalString(params, "nickname"),
    metadata: metadataParam(params),
    active: optionalBoolean(params, "active"),
  });
  ctx.store.prices.set(id, price);
  ctx.emit("price.created", price, { request });
  return price;
};

export const retrievePrice: ApiHandler = (ctx, { pathParams: [id = ""] }) => requirePrice(ctx, id);

export const updatePrice: ApiHandler = (ctx, { params, pathParams: [id = ""], request }) => {
  const price = requirePrice(ctx, id);
  const previous: Record<string, unknown> = {};
  const active = optionalBoolean(params, "active");
  if (active !== undefined) [previous.active, price.active] = [price.active, active];
  const nickname = optionalString(params, "nickname");
  if (nickname !== undefined) [previous.nickname, price.nickname] = [price.nickname, nickname || null];
  const lookupKey = optionalString(params, "lookup_key");
  if (lookupKey !== undefined) {
    if (lookupKey)
      claimLookupKey(ctx, lookupKey, optionalBoolean(params, "transfer_lookup_key") ?? false, id);
    [previous.lookup_key, price.lookup_key] = [price.lookup_key, lookupKey || null];
  }
  if (params.metadata !== undefined) {
    previous.metadata = price.metadata;
    price.metadata = mergeMetadata(price.metadata, metadataParam(params));
  }
  ctx.emit("price.updated", price, { previousAttributes: previous, request });
  return price;
};

export const listPrices: ApiHandler = (ctx, { params }) => {
  const active = optionalBoolean(params, "active");
  const product = optionalString(params, "product");
  const type = optionalString(params, "type");
  const currency = optionalString(params, "currency");
  const lookupKeys = optionalArray(params, "lookup_keys");
  if (lookupKeys && lookupKeys.length > 10) {
    throw invalidParam("lookup_keys", "You can pass at most 10 lookup_keys.");
  }
  const rows = [...ctx.store.prices.values()].filter(
    (p) =>
      (active === undefined || p.active === active) &&
      (product === undefined || p.product === product) &&
      (type === undefined || p.type === type) &&
      (currency === undefined || p.currency === currency) &&
      (!lookupKeys || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))),
  );
  return listResponse("/v1/prices", rows, params);
};
