import type { FormatDefinition } from "./format";

const IPV4_RE =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
/** Dotted-quad IPv4 without leading zeros. */
export const isIpv4 = (s: string): boolean => IPV4_RE.test(s);

/** `ipv4`. */
export const ipv4: FormatDefinition = { check: isIpv4 };
