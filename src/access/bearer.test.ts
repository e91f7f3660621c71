import { describe, expect, it } from "vitest";
import { bearerCredentials } from "./bearer";

describe("bearerCredentials", () => {
  it("takes the token after the scheme, in any case, after one or more spaces", () => {
    expect(bearerCredentials("Bearer abc.def")).toBe("abc.def");
    expect(bearerCredentials("bearer   sm_live_x")).toBe("sm_live_x");
    expect(bearerCredentials("BEARER t ")).toBe("t");
  });

  it("is undefined without a header, for another scheme, or without exactly one token", () => {
    expect(bearerCredentials(undefined)).toBeUndefined();
    expect(bearerCredentials("")).toBeUndefined();
    expect(bearerCredentials("Bearer")).toBeUndefined();
    expect(bearerCredentials("Bearer ")).toBeUndefined();
    expect(bearerCredentials("Basic dXNlcjpwYXNz")).toBeUndefined();
    expect(bearerCredentials("Bearer two words")).toBeUndefined();
    expect(bearerCredentials("Bearerabc")).toBeUndefined();
  });
});
