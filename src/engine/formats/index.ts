import { date } from "./date";
import { dateTime } from "./date-time";
import { duration } from "./duration";
import { email } from "./email";
import type { FormatDefinition } from "./format";
import { hostname } from "./hostname";
import { idnEmail } from "./idn-email";
import { idnHostname } from "./idn-hostname";
import { ipv4 } from "./ipv4";
import { ipv6 } from "./ipv6";
import { iri, iriReference } from "./iri";
import { jsonPointer, relativeJsonPointer } from "./json-pointer";
import { regex } from "./regex";
import { time } from "./time";
import { uri, uriReference } from "./uri";
import { uriTemplate } from "./uri-template";
import { uuid } from "./uuid";

// Format checks for `format` when asserted, and normalisation for enrichment. All regular
// expressions in this folder are fixed, written for it and free of ambiguous nested quantifiers,
// so the native engine runs them in linear time.

export type { FormatDefinition } from "./format";

function withoutPrototype<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/**
 * Every known format by name; a format not listed here is not asserted (it is unknown). Without a
 * prototype, so a schema's `format: "hasOwnProperty"` finds nothing instead of an Object method.
 */
export const FORMATS: Readonly<Record<string, FormatDefinition>> = withoutPrototype({
  "date-time": dateTime,
  date,
  time,
  duration,
  email,
  "idn-email": idnEmail,
  hostname,
  "idn-hostname": idnHostname,
  ipv4,
  ipv6,
  uri,
  "uri-reference": uriReference,
  iri,
  "iri-reference": iriReference,
  "uri-template": uriTemplate,
  "json-pointer": jsonPointer,
  "relative-json-pointer": relativeJsonPointer,
  regex,
  uuid,
});

/** Format checks by name, for the `format` keyword. */
export const FORMAT_CHECKS: Readonly<Record<string, (s: string) => boolean>> = withoutPrototype(
  Object.fromEntries(Object.entries(FORMATS).map(([name, definition]) => [name, definition.check])),
);

/**
 * The normalised form of a valid formatted string, for enrichment: date-time in UTC with `Z`,
 * e-mail with a lower-case domain, URI/IRI with lower-case scheme and host. Other formats unchanged.
 */
export function normalizeFormat(format: string, s: string): string {
  const normalize = FORMATS[format]?.normalize;
  return normalize ? normalize(s) : s;
}
