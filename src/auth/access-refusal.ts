import type { ErrorCode } from "../errors";

/** The reasons the access domain (accounts, keys) refuses; each is the API error code of the same name. */
export type AccessRefusalCode = Extract<
  ErrorCode,
  | "EMAIL_TAKEN"
  | "API_KEY_INVALID"
  | "ACCOUNT_SUSPENDED"
  | "ACCOUNT_PAST_DUE"
  | "ACCOUNT_CLOSED"
  | "NOT_FOUND"
>;

/**
 * A refusal of the access domain, with a detail safe to show the client. Domain code throws this,
 * never an HTTP error; the app's error handler maps it to the ApiError (and challenge) in one place.
 */
export class AccessRefusal extends Error {
  constructor(
    readonly code: AccessRefusalCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "AccessRefusal";
  }
}
