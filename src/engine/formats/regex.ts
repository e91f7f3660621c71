import { isValidEcmaRegex } from "../regex";
import type { FormatDefinition } from "./format";

/** `regex`: a valid ECMA-262 pattern (it need not be one the linear-time engine accepts). */
export const regex: FormatDefinition = { check: isValidEcmaRegex };
