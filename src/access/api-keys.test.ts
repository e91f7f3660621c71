import { describe, expect, it } from "vitest";
import { apiKeyPrefix, generateApiKey, hashApiKey } from "./api-keys";

describe("API keys", () => {
  it("have a visible prefix, 256 random bits and a SHA-256 hex hash", async () => {
    const { key, prefix, hash } = await generateApiKey();
    expect(key).toMatch(/^sm_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`${prefix}_`)).toBe(true);
    expect(apiKeyPrefix(key)).toBe(prefix);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(await hashApiKey(key));
    expect(hash).not.toContain(key);
  });

  it("are unique", async () => {
    const keys = await Promise.all(Array.from({ length: 200 }, () => generateApiKey()));
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(200);
  });

  it("hash like sha256sum", async () => {
    expect(await hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("recognises only well-formed keys", () => {
    expect(apiKeyPrefix("Bearer x")).toBeUndefined();
    expect(apiKeyPrefix("eyJhbGciOiJFZERTQSJ9.e30.sig")).toBeUndefined();
    expect(apiKeyPrefix(`sm_ABCDEFGHIJ_${"a".repeat(43)}`)).toBeUndefined();
  });
});
