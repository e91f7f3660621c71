/**
 * IP address parsing shared by the SSRF policy and the per-network abuse limits: bytes of IPv4 and
 * IPv6 addresses as the URL parser and Cloudflare's `CF-Connecting-IP` write them.
 */

/** The 4 bytes of a dotted-quad IPv4 address, or undefined. */
export function ipv4Bytes(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

/** The 16 bytes of an IPv6 address (no brackets, any case, `::` and a dotted IPv4 tail allowed), or undefined. */
export function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted?.[1] && dotted[2]) {
    const v4 = ipv4Bytes(dotted[2]);
    if (!v4) return undefined;
    text = `${dotted[1]}0:0`;
    tail.push(...v4);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groups(halves[0]);
  const rest = groups(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const bytes: number[] = [];
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : undefined;
}

/**
 * The network an address counts against for abuse limits: an IPv4 address itself; an IPv6 address's
 * first `ipv6Prefix` bits (a subscriber is given a whole /64, often a /56 or /48, so counting single
 * addresses would give one person 2^64 of them); an IPv4-mapped IPv6 address as its IPv4 address.
 * Anything unparseable counts as itself, trimmed and bounded.
 */
export function clientNetworkOf(address: string, ipv6Prefix: number): string {
  const text = address.trim();
  if (ipv4Bytes(text)) return text;
  const bytes = ipv6Bytes(text);
  if (!bytes) return text.slice(0, 64);
  if (bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12).join(".");
  }
  const prefix = Math.max(0, Math.min(128, Math.floor(ipv6Prefix)));
  const masked = bytes.map((byte, i) => {
    const bitsLeft = prefix - i * 8;
    if (bitsLeft >= 8) return byte;
    if (bitsLeft <= 0) return 0;
    return byte & (0xff << (8 - bitsLeft)) & 0xff;
  });
  const hex = [];
  for (let i = 0; i < 16; i += 2) hex.push((((masked[i] ?? 0) << 8) | (masked[i + 1] ?? 0)).toString(16));
  return `${hex.join(":")}/${prefix}`;
}
