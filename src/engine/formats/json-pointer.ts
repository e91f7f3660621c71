import type { FormatDefinition } from "./format";

const JSON_POINTER_RE = /^(?:\/(?:[^~/]|~[01])*)*$/;
const REL_JSON_POINTER_RE = /^(?:0|[1-9][0-9]*)(?:#|(?:\/(?:[^~/]|~[01])*)*)$/;

/** `json-pointer` (RFC 6901). */
export const jsonPointer: FormatDefinition = { check: (s) => JSON_POINTER_RE.test(s) };

/** `relative-json-pointer`. */
export const relativeJsonPointer: FormatDefinition = { check: (s) => REL_JSON_POINTER_RE.test(s) };
