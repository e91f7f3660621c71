import { describe, expect, it } from "vitest";
import { clientNetworkOf, ipv4Bytes, ipv6Bytes } from "./ip-address";

describe("IP addresses", () => {
  it("parses IPv4 and IPv6 in the forms the URL parser and Cloudflare write", () => {
    expect(ipv4Bytes("192.0.2.1")).toEqual([192, 0, 2, 1]);
    expect(ipv4Bytes("256.0.0.1")).toBeUndefined();
    expect(ipv6Bytes("::1")).toEqual([...Array(15).fill(0), 1]);
    expect(ipv6Bytes("2001:DB8::a:b")?.slice(0, 4)).toEqual([0x20, 0x01, 0x0d, 0xb8]);
    expect(ipv6Bytes("::ffff:192.0.2.1")?.slice(10)).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    expect(ipv6Bytes("1::2::3")).toBeUndefined();
    expect(ipv6Bytes("12345::")).toBeUndefined();
  });

  it("counts IPv6 clients by their /64, IPv4 clients by their address", () => {
    const a = clientNetworkOf("2001:db8:1:2:aaaa::1", 64);
    expect(a).toBe("2001:db8:1:2:0:0:0:0/64");
    // Every address of the same /64 is the same network, however it is written.
    expect(clientNetworkOf("2001:0db8:0001:0002:ffff:ffff:ffff:ffff", 64)).toBe(a);
    expect(clientNetworkOf("2001:DB8:1:2::", 64)).toBe(a);
    expect(clientNetworkOf("2001:db8:1:3::1", 64)).not.toBe(a);
    expect(clientNetworkOf("192.0.2.1", 64)).toBe("192.0.2.1");
    expect(clientNetworkOf("192.0.2.2", 64)).toBe("192.0.2.2");
    expect(clientNetworkOf("::ffff:192.0.2.1", 64)).toBe("192.0.2.1");
  });

  it("takes other prefix lengths, bit-exact inside a byte", () => {
    expect(clientNetworkOf("2001:db8:abcd:ef01::1", 48)).toBe("2001:db8:abcd:0:0:0:0:0/48");
    expect(clientNetworkOf("2001:db8:abcd:ef01::1", 52)).toBe("2001:db8:abcd:e000:0:0:0:0/52");
    expect(clientNetworkOf("2001:db8::1", 128)).toBe("2001:db8:0:0:0:0:0:1/128");
  });

  it("keeps anything else as it is, bounded", () => {
    expect(clientNetworkOf("unknown", 64)).toBe("unknown");
    expect(clientNetworkOf("x".repeat(500), 64)).toHaveLength(64);
  });
});
