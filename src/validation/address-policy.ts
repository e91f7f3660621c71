/**
 * Which URLs schema fetching may reach. Refuses private, loopback, link-local, carrier-grade NAT,
 * multicast, reserved and cloud-metadata addresses, internal host names, plain http and URL
 * credentials, unless the host (or host:port) is on SCHEMA_FETCH_ALLOWLIST.
 *
 * Host names are judged by name: a Worker cannot resolve DNS itself. On Cloudflare's network a
 * Worker's fetch cannot reach private networks anyway, which covers public names that resolve to
 * private addresses (DNS rebinding); these checks are what stand in front of metadata endpoints
 * and loopback everywhere else, `wrangler dev` included.
 */

import { ipv4Bytes, ipv6Bytes } from "../lib/ip-address";

export type UrlRefusal =
  | "invalid_url"
  | "scheme_not_allowed"
  | "credentials_in_url"
  | "private_address"
  | "internal_host";

const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp"];
const INTERNAL_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data"]);

function isPrivateIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    a === 127 ||
    (a === 169 && b === 254) || // link-local, cloud metadata (169.254.169.254)
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && c === 0) || // IETF protocol assignments
    (a === 192 && b === 0 && c === 2) || // documentation
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    a >= 224 // multicast, reserved, broadcast
  );
}

function isPrivateIpv6(bytes: number[]): boolean {
  const [first = 0, second = 0] = bytes;
  const zeroPrefix = (length: number) => bytes.slice(0, length).every((byte) => byte === 0);
  if (zeroPrefix(15) && (bytes[15] === 0 || bytes[15] === 1)) return true; // :: and ::1
  if (zeroPrefix(10) && bytes[10] === 0xff && bytes[11] === 0xff) return isPrivateIpv4(bytes.slice(12)); // v4-mapped
  if (zeroPrefix(12)) return isPrivateIpv4(bytes.slice(12)); // v4-compatible (deprecated)
  // v4-translated ::ffff:0:0:0/96 (SIIT): the last four bytes are an IPv4 address.
  if (zeroPrefix(8) && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0) {
    return isPrivateIpv4(bytes.slice(12));
  }
  const startsWith = (prefix: number[]) => prefix.every((byte, i) => bytes[i] === byte);
  if (startsWith([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return isPrivateIpv4(bytes.slice(12)); // NAT64
  if (startsWith([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01])) return true; // local-use NAT64 64:ff9b:1::/48
  if (startsWith([0x01, 0x00, 0, 0, 0, 0, 0, 0])) return true; // discard-only 100::/64
  // 6to4 2002::/16 and Teredo 2001::/32 carry an IPv4 address a relay turns into traffic to it;
  // both are deprecated and no schema host needs them.
  if (first === 0x20 && second === 0x02) return true;
  if (startsWith([0x20, 0x01, 0x00, 0x00])) return true;
  if ((first & 0xfe) === 0xfc) return true; // unique local fc00::/7 (AWS metadata fd00:ec2::254)
  if (first === 0xfe && (second & 0xc0) === 0x80) return true; // link-local fe80::/10
  if (first === 0xfe && (second & 0xc0) === 0xc0) return true; // site-local fec0::/10 (deprecated)
  if (first === 0xff) return true; // multicast
  if (first === 0x20 && second === 0x01 && bytes[2] === 0x0d && bytes[3] === 0xb8) return true; // documentation
  return false;
}

/** Whether `host` (as `URL.hostname` gives it) is an address or name that must not be fetched. */
export function isInternalHost(hostname: string): boolean {
  // Any number of trailing dots name the same host (`localhost..`); an empty label names none.
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "" || (!host.startsWith("[") && host.split(".").includes(""))) return true;
  if (host.startsWith("[")) {
    const bytes = ipv6Bytes(host.slice(1, -1));
    return bytes === undefined || isPrivateIpv6(bytes);
  }
  const v4 = ipv4Bytes(host);
  if (v4) return isPrivateIpv4(v4);
  if (!host.includes(".")) return true; // single-label names resolve inside a network
  return INTERNAL_NAMES.has(host) || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/** Why `url` may not be fetched, or undefined when it may. */
export function refuseUrl(url: URL, allowlist: readonly string[]): UrlRefusal | undefined {
  const host = url.hostname.toLowerCase();
  const allowed = allowlist.includes(host) || allowlist.includes(url.host.toLowerCase());
  if (url.protocol !== "https:" && !(allowed && url.protocol === "http:")) return "scheme_not_allowed";
  if (url.username || url.password) return "credentials_in_url";
  if (allowed) return undefined;
  if (isInternalHost(host)) {
    return ipv4Bytes(host) || host.startsWith("[") ? "private_address" : "internal_host";
  }
  return undefined;
}
