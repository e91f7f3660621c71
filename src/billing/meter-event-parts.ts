/**
 * Stripe's meter event values are whole numbers of at most 15 significant digits (larger ones are
 * dropped asynchronously as `meter_event_value_too_many_digits`). A batch whose units exceed that
 * is sent as several events, each within the limit, with identifiers derived from the batch id
 * (`<batch id>_p<n>`), so a resend of the batch resends exactly the same parts and Stripe
 * deduplicates those it already has. A batch within the limit is one event named by the batch id.
 * Pure, so it is tested beside the code.
 */

/** The largest meter event value: 15 digits. */
export const MAX_METER_EVENT_VALUE = 999_999_999_999_999;

export interface MeterEventPart {
  identifier: string;
  value: number;
}

/** The meter events a batch is sent as; throws for units JavaScript cannot hold exactly. */
export function meterEventParts(batchId: string, units: number): MeterEventPart[] {
  if (!Number.isSafeInteger(units))
    throw new RangeError(`batch ${batchId} units ${units} is not a safe integer`);
  const magnitude = Math.abs(units);
  if (magnitude <= MAX_METER_EVENT_VALUE) return [{ identifier: batchId, value: units }];
  const sign = units < 0 ? -1 : 1;
  const parts: MeterEventPart[] = [];
  for (let left = magnitude, n = 1; left > 0; n++) {
    const value = Math.min(left, MAX_METER_EVENT_VALUE);
    parts.push({ identifier: `${batchId}_p${n}`, value: sign * value });
    left -= value;
  }
  return parts;
}
