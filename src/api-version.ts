/**
 * The API's version: the date of its last change that a client could notice (a new field, a new
 * error code, a changed default), as Stripe dates its versions. Sent in every response as
 * `Schema-Meter-Version`, and the OpenAPI document's `info.version`; CHANGELOG.md lists each one.
 */
export const API_VERSION = "2026-12-01";

/** The response header that carries API_VERSION. */
export const API_VERSION_HEADER = "Schema-Meter-Version";
