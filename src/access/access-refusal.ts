import type { ErrorCode } from "../errors";
import { Refusal } from "../refusal";

/** The reasons the access domain (accounts, keys, tokens) refuses; each is the API error code of the same name. */
export type AccessRefusalCode = Extract<
  ErrorCode,
  | "AUTH_REQUIRED"
  | "TOKEN_EXPIRED"
  | "TOKEN_INVALID"
  | "EMAIL_TAKEN"
  | "API_KEY_INVALID"
  | "API_KEY_EXPIRED"
  | "API_KEY_LAST_ACTIVE"
  | "API_KEY_LIMIT_REACHED"
  | "ACCOUNT_SUSPENDED"
  | "ACCOUNT_PAST_DUE"
  | "ACCOUNT_CLOSED"
  | "NOT_FOUND"
>;

/**
 * A refusal of the access domain, with a detail safe to show the client. Domain code throws this,
 * never an HTTP error; the app's error handler maps it to the ApiError (and challenge) in one place.
 */
export class AccessRefusal extends Refusal {
  constructor(
    override readonly code: AccessRefusalCode,
    detail: string,
  ) {
    super(code, detail);
    this.name = "AccessRefusal";
  }
}

const REALM = 'Bearer realm="schema-meter"';

/** RFC 6750 challenge for a 401: bare when no credentials came, `invalid_token` when they were bad. */
export function bearerChallenge(error?: "invalid_token", description?: string): string {
  if (!error) return REALM;
  return `${REALM}, error="${error}"${description ? `, error_description="${description}"` : ""}`;
}

/** The `WWW-Authenticate` challenge each credential refusal answers with (RFC 6750 §3). */
export const REFUSAL_CHALLENGES: Partial<Record<ErrorCode, string>> = {
  AUTH_REQUIRED: bearerChallenge(),
  TOKEN_REVOKED: bearerChallenge("invalid_token"),
  API_KEY_INVALID: bearerChallenge("invalid_token"),
  API_KEY_EXPIRED: bearerChallenge("invalid_token", "The API key expired"),
  TOKEN_EXPIRED: bearerChallenge("invalid_token", "The token expired"),
  TOKEN_INVALID: bearerChallenge("invalid_token", "The token is invalid"),
};
