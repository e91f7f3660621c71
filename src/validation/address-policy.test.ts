import { describe, expect, it } from "vitest";
import { isInternalHost, refuseUrl } from "./address-policy";

const refusal = (url: string, allowlist: string[] = []) => refuseUrl(new URL(url), allowlist);

describe("schema URL policy", () => {
  it("allows public https hosts", () => {
    expect(refusal("https://json-schema.org/draft/2020-12/schema")).toBeUndefined();
    expect(refusal("https://93.184.216.34/schema.json")).toBeUndefined();
    expect(refusal("https://[2606:4700:4700::1111]/s.json")).toBeUndefined();
  });

  it("refuses plain http, other schemes and credentials", () => {
    expect(refusal("http://example.com/s.json")).toBe("scheme_not_allowed");
    expect(refusal("file:///etc/passwd")).toBe("scheme_not_allowed");
    expect(refusal("ftp://example.com/s.json")).toBe("scheme_not_allowed");
    expect(refusal("https://user:pw@example.com/s.json")).toBe("credentials_in_url");
  });

  it.each([
    "https://127.0.0.1/",
    "https://127.9.9.9/",
    "https://10.0.0.5/",
    "https://172.16.0.1/",
    "https://172.31.255.255/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://2130706433/", // 127.0.0.1 in decimal: the URL parser normalises it
    "https://0x7f.0.0.1/",
    "https://017700000001/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a9fe:a9fe]/", // 169.254.169.254, v4-mapped
    "https://[64:ff9b::a00:1]/", // NAT64 of 10.0.0.1
    "https://[fd00:ec2::254]/", // AWS metadata over IPv6
    "https://[fe80::1]/",
    "https://[::ffff:0:7f00:1]/", // v4-translated 127.0.0.1
    "https://[::ffff:0:a9fe:a9fe]/", // v4-translated 169.254.169.254
    "https://[64:ff9b:1::a00:1]/", // local-use NAT64
    "https://[64:ff9b:1:ffff::1]/",
    "https://[2002:7f00:1::]/", // 6to4 of 127.0.0.1
    "https://[2002:5db8:d822::1]/", // 6to4 of a public address: refused as well
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
    "https://[fec0::1]/", // site-local
    "https://[feff::1]/",
    "https://[100::1]/", // discard-only
  ])("refuses the private or special address %s", (url) => {
    expect(refusal(url)).toBe("private_address");
  });

  it.each([
    "https://localhost/",
    "https://api.localhost/",
    "https://metadata.google.internal/",
    "https://printer.local/",
    "https://intranet/",
    "https://localhost./",
    "https://localhost../",
    "https://localhost.../",
    "https://metadata.google.internal../",
    "https://api.localhost../",
  ])("refuses the internal host name %s", (url) => {
    expect(refusal(url)).toBe("internal_host");
  });

  it("lets allowlisted hosts through, with or without a port, even over http", () => {
    expect(refusal("http://127.0.0.1:8080/s.json", ["127.0.0.1:8080"])).toBeUndefined();
    expect(refusal("http://127.0.0.1:9090/s.json", ["127.0.0.1:8080"])).toBe("scheme_not_allowed");
    expect(refusal("https://schemas.corp/s.json", ["schemas.corp"])).toBeUndefined();
    expect(refusal("https://user:pw@schemas.corp/s.json", ["schemas.corp"])).toBe("credentials_in_url");
  });

  it("judges bare hosts", () => {
    expect(isInternalHost("example.com")).toBe(false);
    expect(isInternalHost("example.com.")).toBe(false);
    expect(isInternalHost("example..com")).toBe(true);
    expect(isInternalHost("[2001:db9::1]")).toBe(false);
    expect(isInternalHost("[2606:4700::1]")).toBe(false);
    expect(isInternalHost("172.32.0.1")).toBe(false);
    expect(isInternalHost("[2001:db8::1]")).toBe(true);
  });
});
