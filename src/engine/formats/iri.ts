import type { FormatDefinition } from "./format";
import { checkUri, lowerCaseSchemeAndHost } from "./uri";

/** `iri`: normalised with a lower-case scheme and host. */
export const iri: FormatDefinition = {
  check: (s) => checkUri(s, true, false),
  normalize: lowerCaseSchemeAndHost,
};

/** `iri-reference`. */
export const iriReference: FormatDefinition = { check: (s) => checkUri(s, true, true) };
