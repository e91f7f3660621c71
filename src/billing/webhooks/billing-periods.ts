/**
 * The subscription billing periods a verified Stripe event shows, for `record_billing_periods`
 * (migrations/0016): the flusher never lets one meter event straddle a period boundary, because
 * Stripe bills an event in the period its timestamp falls in. Pure, tested beside the code.
 *
 * - customer.subscription.*: each item's `current_period_start` / `current_period_end` (where
 *   Stripe keeps them since API 2025-03-31.basil), else the subscription's own (older versions).
 * - invoice.paid / invoice.payment_failed: each line's `period` of the invoice's subscription.
 */

/** One period, in unix seconds, as the SQL function reads it. */
export interface BillingPeriod {
  subscription: string;
  customer: string;
  start: number;
  end: number;
}

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
const asId = (value: unknown): string | null =>
  typeof value === "string" && value.length > 0
    ? value
    : ((asObject(value)?.id as string | undefined) ?? null);
const asSeconds = (value: unknown): number | null =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null;
const listOf = (value: unknown): unknown[] => {
  const data = asObject(value)?.data;
  return Array.isArray(data) ? data : [];
};

function period(subscription: string | null, customer: string | null, start: unknown, end: unknown) {
  const from = asSeconds(start);
  const to = asSeconds(end);
  if (!subscription?.startsWith("sub_") || !customer || from === null || to === null || to <= from) return [];
  return [{ subscription, customer, start: from, end: to }];
}

/** The periods in an event's object; none for other event types. */
export function billingPeriodsOf(event: { type: string; data: { object: unknown } }): BillingPeriod[] {
  const object = asObject(event.data.object) ?? {};
  const customer = asId(object.customer);
  if (event.type.startsWith("customer.subscription.")) {
    const subscription = asId(object.id);
    const fromItems = listOf(object.items).flatMap((item) => {
      const fields = asObject(item) ?? {};
      return period(subscription, customer, fields.current_period_start, fields.current_period_end);
    });
    if (fromItems.length > 0) return dedupe(fromItems);
    return period(subscription, customer, object.current_period_start, object.current_period_end);
  }
  if (event.type === "invoice.paid" || event.type === "invoice.payment_failed") {
    const details = asObject(asObject(object.parent)?.subscription_details);
    const subscription = asId(details?.subscription) ?? asId(object.subscription);
    return dedupe(
      listOf(object.lines).flatMap((line) => {
        const range = asObject(asObject(line)?.period) ?? {};
        return period(subscription, customer, range.start, range.end);
      }),
    );
  }
  return [];
}

function dedupe(periods: BillingPeriod[]): BillingPeriod[] {
  const seen = new Map<string, BillingPeriod>();
  for (const p of periods) seen.set(`${p.subscription}|${p.start}|${p.end}`, p);
  return [...seen.values()];
}
