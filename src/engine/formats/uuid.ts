import type { FormatDefinition } from "./format";

const UUID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** `uuid` (RFC 4122 text form, any version). */
export const uuid: FormatDefinition = { check: (s) => UUID_RE.test(s) };
