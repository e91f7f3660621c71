/**
 * Stripe's error envelope: `{ error: { type, code?, message, param?, doc_url? } }` with the HTTP
 * status Stripe documents for each class (400 invalid request, 401 auth, 404 missing, 429 rate
 * limit, 5xx api_error). Absent fields are omitted, as Stripe does.
 */
export type StripeErrorType = "invalid_request_error" | "api_error" | "idempotency_error";

export interface StripeErrorBody {
  error: {
    type: StripeErrorType;
    code?: string;
    message: string;
    param?: string;
    doc_url?: string;
  };
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly details: {
      code?: string;
      param?: string;
      headers?: Record<string, string>;
      /**
       * Stripe saves an idempotent result only once an endpoint starts executing; a request that
       * fails parameter validation is not saved and can be retried with the same key.
       */
      savedForIdempotency?: boolean;
    } = {},
  ) {
    super(message);
  }

  get savedForIdempotency(): boolean {
    return this.details.savedForIdempotency ?? true;
  }

  toBody(): StripeErrorBody {
    const { code, param } = this.details;
    return {
      error: {
        type: this.type,
        ...(code && { code, doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, "-")}` }),
        message: this.message,
        ...(param && { param }),
      },
    };
  }
}

export function missingParam(param: string): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", `Missing required param: ${param}.`, {
    code: "parameter_missing",
    param,
    savedForIdempotency: false,
  });
}

export function invalidParam(param: string, message: string, code = "parameter_invalid"): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", message, {
    code,
    param,
    savedForIdempotency: false,
  });
}

/** `No such customer: 'cus_x'`: 404 on a path id, 400 when the id came in a parameter. */
export function noSuchResource(kind: string, id: string, param = "id", status = 404): StripeApiError {
  return new StripeApiError(status, "invalid_request_error", `No such ${kind}: '${id}'`, {
    code: "resource_missing",
    param,
  });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(
    404,
    "invalid_request_error",
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    { savedForIdempotency: false },
  );
}
