import type { FormatDefinition } from "./format";

// ISO 8601 durations as RFC 3339 Appendix A writes them: weeks alone, or Y-M-D then T H-M-S.
const DUR_TIME = "T(?:\\d+H(?:\\d+M(?:\\d+S)?)?|\\d+M(?:\\d+S)?|\\d+S)";
const DURATION_RE = new RegExp(
  `^P(?:(?:\\d+Y(?:\\d+M(?:\\d+D)?)?|\\d+M(?:\\d+D)?|\\d+D)(?:${DUR_TIME})?|${DUR_TIME}|\\d+W)$`,
);

/** `duration`. */
export const duration: FormatDefinition = { check: (s) => DURATION_RE.test(s) };
