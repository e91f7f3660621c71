import type { FormatDefinition } from "./format";
import { checkHostname } from "./hostname";

/** `idn-hostname`. */
export const idnHostname: FormatDefinition = { check: (s) => checkHostname(s, true) };
