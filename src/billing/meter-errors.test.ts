import { describe, expect, it } from "vitest";
import { meterErrorReportOf } from "./meter-errors";

const event = {
  id: "evt_test_65R9Ijk8d9ghJMtsrT7BMUYYZQ2DSQ",
  object: "v2.core.event",
  type: "v1.billing.meter.error_report_triggered",
  created: "2026-12-01T12:00:00.000Z",
  livemode: false,
  related_object: { id: "mtr_test_1", type: "billing.meter", url: "/v1/billing/meters/mtr_test_1" },
  data: {
    developer_message_summary: "2 meter events could not be processed.",
    validation_start: "2026-12-01T11:00:00.000Z",
    validation_end: "2026-12-01T12:00:00.000Z",
    reason: {
      error_count: 5,
      error_types: [
        {
          code: "meter_event_customer_not_found",
          error_count: 4,
          sample_errors: [
            {
              error_message: "No customer cus_x",
              request: { identifier: "smu_0123456789abcdef0123456789abcdef" },
            },
          ],
        },
        {
          code: "meter_event_value_too_many_digits",
          error_count: 1,
          sample_errors: [
            { error_message: null, request: { identifier: "smu_0123456789abcdef0123456789abcdef_p2" } },
          ],
        },
      ],
    },
  },
};

describe("meterErrorReportOf", () => {
  it("reads the report and one sample per sampled identifier, with its error type's code", () => {
    expect(meterErrorReportOf(event)).toEqual({
      id: event.id,
      type: "v1.billing.meter.error_report_triggered",
      meter: "mtr_test_1",
      summary: "2 meter events could not be processed.",
      error_count: 5,
      validation_start: "2026-12-01T11:00:00.000Z",
      validation_end: "2026-12-01T12:00:00.000Z",
      samples: [
        {
          identifier: "smu_0123456789abcdef0123456789abcdef",
          code: "meter_event_customer_not_found",
          message: "No customer cus_x",
        },
        {
          identifier: "smu_0123456789abcdef0123456789abcdef_p2",
          code: "meter_event_value_too_many_digits",
          message: null,
        },
      ],
    });
  });

  it("reads no_meter_found events, which name no meter", () => {
    const { related_object: _, ...withoutMeter } = event;
    const report = meterErrorReportOf({ ...withoutMeter, type: "v1.billing.meter.no_meter_found" });
    expect(report).toMatchObject({ type: "v1.billing.meter.no_meter_found", meter: null });
  });

  it("refuses other event types and events without a reason", () => {
    expect(() => meterErrorReportOf({ ...event, type: "v1.billing.meter.created" })).toThrow();
    expect(() => meterErrorReportOf({ ...event, data: {} })).toThrow();
  });
});
