import { describe, expect, it } from "vitest";
import { FORMAT_CHECKS, FORMATS, normalizeFormat } from "./index";

// A few valid and invalid strings per format, chosen at the edges each check exists for.

const CASES: Record<string, { valid: string[]; invalid: string[] }> = {
  "date-time": {
    valid: ["2024-02-29T12:00:00Z", "1990-12-31T15:59:60-08:00", "2024-01-01t00:00:00.123+05:30"],
    invalid: ["2023-02-29T12:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T12:00:60Z", "2024-01-01T00:00:00"],
  },
  date: {
    valid: ["2024-02-29", "2000-02-29", "1999-12-31"],
    invalid: ["1900-02-29", "2024-04-31", "2024-1-01", "2024-13-01", "२०२४-01-01"],
  },
  time: {
    valid: ["23:59:60Z", "08:30:06.283185Z", "12:00:00+01:00"],
    invalid: ["24:00:00Z", "12:00:00", "12:00:00+24:00", "12:00:60Z", "12:00:00.Z"],
  },
  duration: {
    valid: ["P1Y2M3DT4H5M6S", "PT1S", "P4W", "P1D"],
    invalid: ["P", "PT", "P1W2D", "P1S", "1Y"],
  },
  email: {
    valid: ["joe@example.com", '"joe bloggs"@example.com', "joe@[127.0.0.1]", "joe@[IPv6:::1]"],
    invalid: ["joe", "@example.com", "joe..bloggs@example.com", "jöe@example.com", "joe@-x.com"],
  },
  "idn-email": {
    valid: ["실례@실례.테스트", "joe@example.com"],
    invalid: ["2962", "joe@"],
  },
  hostname: {
    valid: ["example.com", "a-b.c", "xn--4gbwdl.xn--wgbh1c", `${"a".repeat(63)}.com`],
    invalid: ["-a.com", "a_b.com", `${"a".repeat(64)}.com`, "", "ex ample.com", "ü.com"],
  },
  "idn-hostname": {
    valid: ["실례.테스트", "example.com", "ü.com"],
    invalid: ["〮실례.테스트", "-ü.com", "xn--X.com"],
  },
  ipv4: {
    valid: ["192.168.0.1", "0.0.0.0", "255.255.255.255"],
    invalid: ["256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "١.2.3.4"],
  },
  ipv6: {
    valid: ["::1", "::", "1:2:3:4:5:6:7:8", "::ffff:192.168.0.1", "fe80::1"],
    invalid: ["1:2:3:4:5:6:7:8:9", ":::1", "1::2::3", "12345::", "::ffff:999.0.0.1"],
  },
  uri: {
    valid: ["https://example.com/a?b#c", "urn:isbn:0451450523", "mailto:joe@example.com", "http://[::1]:80/"],
    invalid: ["//example.com", "/relative", "http://exa mple.com", "http://example.com/ü", "1http://x"],
  },
  "uri-reference": {
    valid: ["/relative", "//example.com", "#frag", "", "../a?b"],
    invalid: ["\\\\WINDOWS\\share", "#a#b", "a:b:c^"],
  },
  iri: {
    valid: ["http://ƒøø.ßår/?∂éœ=πîx#πîüx", "https://example.com"],
    invalid: ["/relative", "http://[::1", "http://exa mple.com"],
  },
  "iri-reference": {
    valid: ["//ƒøø.ßår/?∂éœ", "#ƒrägmênt", ""],
    invalid: ["#ƒräg\\mênt", "\\\\WINDOWS"],
  },
  "uri-template": {
    valid: ["http://example.com/{id}", "/{+path}/{?q,lang}", "{var:30}", "plain"],
    invalid: ["http://example.com/{id", "{}", "{var:0}", "a b"],
  },
  "json-pointer": {
    valid: ["", "/foo/0", "/a~1b", "/m~0n"],
    invalid: ["foo", "/~2", "/a~"],
  },
  "relative-json-pointer": {
    valid: ["0", "1/foo", "2#", "0/a~1b"],
    invalid: ["-1", "01", "/foo", "0##"],
  },
  regex: {
    valid: ["^[a-z]+$", "(?<=a)b", "\\p{L}"],
    invalid: ["[", "a{", "\\p{Foo}"],
  },
  uuid: {
    valid: ["2eb8aa08-aa98-11ea-b4aa-73b441d16380", "2EB8AA08-AA98-11EA-B4AA-73B441D16380"],
    invalid: [
      "2eb8aa08-aa98-11ea-b4aa-73b441d1638",
      "2eb8aa08aa9811eab4aa73b441d16380",
      `g${"0".repeat(35)}`,
    ],
  },
};

describe("formats", () => {
  it("tests every known format", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(FORMATS).sort());
  });

  for (const [name, { valid, invalid }] of Object.entries(CASES)) {
    describe(name, () => {
      it.each(valid)("accepts %j", (s) => {
        expect(FORMAT_CHECKS[name]?.(s)).toBe(true);
      });
      it.each(invalid)("rejects %j", (s) => {
        expect(FORMAT_CHECKS[name]?.(s)).toBe(false);
      });
    });
  }
});

describe("format names that are Object.prototype members", () => {
  it.each(["toString", "hasOwnProperty", "constructor", "__proto__"])("%s is an unknown format", (name) => {
    expect(FORMAT_CHECKS[name]).toBeUndefined();
    expect(normalizeFormat(name, "x")).toBe("x");
  });
});

describe("normalizeFormat", () => {
  it.each([
    ["date-time", "2024-01-01T02:30:00+02:30", "2024-01-01T00:00:00Z"],
    ["date-time", "2024-01-01t00:00:00.5z", "2024-01-01T00:00:00.5Z"],
    ["date-time", "1990-12-31T15:59:60-08:00", "1990-12-31T23:59:60Z"],
    ["email", "Joe@EXAMPLE.com", "Joe@example.com"],
    ["idn-email", "Joe@EXAMPLE.com", "Joe@example.com"],
    ["uri", "HTTPS://User@Example.COM/Path?Q", "https://User@example.com/Path?Q"],
    ["iri", "HTTP://ÉXAMPLE.com/", "http://éxample.com/"],
    ["uri", "URN:ISBN:0451450523", "urn:ISBN:0451450523"],
    ["hostname", "EXAMPLE.com", "EXAMPLE.com"],
    ["unknown-format", "X", "X"],
  ])("%s %j → %j", (format, input, output) => {
    expect(normalizeFormat(format, input)).toBe(output);
  });
});

describe("format checks are linear", () => {
  // Each check refuses an over-long value by its length before any normalisation (punycode is
  // quadratic in a label's length, NFC allocates): 100 kB costs about what 1 kB does. The bound is
  // generous (an adversarial check, not a benchmark: a loaded CI machine is several times slower);
  // the quadratic checks this guards against took 3.6 s on 160 kB.
  const long = "ä".repeat(80_000);
  it.each([
    long,
    `${long}.example`,
    `joe@${long}.example`,
    `${"a".repeat(40_000)}@${"ä".repeat(40_000)}`,
    `${"ab.".repeat(30_000)}com`,
  ])("every format answers 100 kB in well under a second (%#)", (value) => {
    for (const [name, check] of Object.entries(FORMAT_CHECKS)) {
      const started = performance.now();
      check(value);
      expect({ name, fast: performance.now() - started < 1000 }).toEqual({ name, fast: true });
    }
  });

  it("still accepts a U-label of the longest allowed length", () => {
    const check = FORMAT_CHECKS["idn-hostname"] as (s: string) => boolean;
    expect(check(`${"ä".repeat(20)}.example`)).toBe(true);
    expect(check(`${"ä".repeat(60)}.example`)).toBe(false);
  });
});
