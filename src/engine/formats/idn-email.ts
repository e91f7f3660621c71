import { checkEmail, lowerCaseDomain } from "./email";
import type { FormatDefinition } from "./format";

/** `idn-email`: normalised with a lower-case domain. */
export const idnEmail: FormatDefinition = { check: (s) => checkEmail(s, true), normalize: lowerCaseDomain };
