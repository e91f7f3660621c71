import { describe, expect, expectTypeOf, it, vi } from "vitest";
import {
  type Config,
  ConfigError,
  DEFAULT_RATE_LIMIT_TIERS,
  loadConfig,
  parseConfig,
  schemaByteLimit,
} from "./config";
import type { Env } from "./env";

const complete: Env = {
  UPSTASH_REDIS_REST_URL: "https://example.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "redis-token",
  SUPABASE_URL: "https://project.supabase.co",
  SUPABASE_SERVICE_ROLE_KEY: "service-role-key",
  STRIPE_SECRET_KEY: "sk_test_123",
};

function problemsOf(env: Env): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("takes one optional string binding per setting, derived from the schema", () => {
    expectTypeOf<keyof Env>().toEqualTypeOf<keyof Config>();
    expectTypeOf<Env[keyof Env]>().toEqualTypeOf<string | undefined>();
  });

  it("accepts the required settings and fills documented defaults", () => {
    const config = parseConfig(complete);
    expect(config.RATE_LIMIT_TIERS).toEqual(DEFAULT_RATE_LIMIT_TIERS);
    expect(config.STRIPE_METER_EVENT_NAME).toBe("api_validation");
    expect(config.SCHEMA_FETCH_ALLOWLIST).toEqual([]);
    expect(config.MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
    expect(config.MAX_REMOTE_DOCUMENTS).toBe(50);
  });

  it("limits a schema to the request body unless MAX_SCHEMA_BYTES says less", () => {
    expect(schemaByteLimit(parseConfig(complete))).toBe(4 * 1024 * 1024);
    expect(schemaByteLimit(parseConfig({ ...complete, MAX_BODY_BYTES: "2000000" }))).toBe(2_000_000);
    expect(schemaByteLimit(parseConfig({ ...complete, MAX_SCHEMA_BYTES: "300000" }))).toBe(300_000);
  });

  it("names every missing setting at once", () => {
    expect(problemsOf({})).toEqual([
      "UPSTASH_REDIS_REST_URL is missing",
      "UPSTASH_REDIS_REST_TOKEN is missing",
      "SUPABASE_URL is missing",
      "SUPABASE_SERVICE_ROLE_KEY is missing",
      "STRIPE_SECRET_KEY is missing",
    ]);
  });

  it("treats empty strings as unset", () => {
    expect(problemsOf({ ...complete, STRIPE_SECRET_KEY: "" })).toEqual(["STRIPE_SECRET_KEY is missing"]);
  });

  it("names malformed settings without echoing their values", () => {
    const problems = problemsOf({
      ...complete,
      SUPABASE_URL: "not a url secret-looking-value",
      RATE_LIMIT_TIERS: "{oops",
      JWT_SECRET: "short",
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^SUPABASE_URL must be an http\(s\) URL/);
    expect(problems[1]).toMatch(/^JWT_SECRET must be at least 32 characters/);
    expect(problems[2]).toBe("RATE_LIMIT_TIERS must be valid JSON");
    expect(problems.join(" ")).not.toContain("secret-looking-value");
  });

  it("checks the shape of rate-limit tiers and parses the allowlist", () => {
    expect(
      problemsOf({ ...complete, RATE_LIMIT_TIERS: '{"free":{"limit":0,"windowSeconds":10}}' })[0],
    ).toMatch(/^RATE_LIMIT_TIERS\.free\.limit/);
    const config = parseConfig({
      ...complete,
      RATE_LIMIT_TIERS: '{"team":{"limit":1000,"windowSeconds":60}}',
      SCHEMA_FETCH_ALLOWLIST: " Schemas.Internal:8443, localhost ,",
    });
    expect(config.RATE_LIMIT_TIERS).toEqual({ team: { limit: 1000, windowSeconds: 60 } });
    expect(config.SCHEMA_FETCH_ALLOWLIST).toEqual(["schemas.internal:8443", "localhost"]);
  });
});

describe("loadConfig", () => {
  it("parses once per env object and remembers failures too", () => {
    const env = { ...complete };
    expect(loadConfig(env)).toBe(loadConfig(env));
    const broken: Env = {};
    const thrown = () => {
      try {
        loadConfig(broken);
      } catch (error) {
        return error;
      }
      throw new Error("expected loadConfig to throw");
    };
    const first = thrown();
    expect(first).toBeInstanceOf(ConfigError);
    broken.UPSTASH_REDIS_REST_URL = "https://late.example";
    expect(() => loadConfig(broken)).toThrow(/UPSTASH_REDIS_REST_TOKEN is missing/);
    // Only the remembered error still names the URL, now set, as missing; a fresh parse would not.
    expect(() => loadConfig(broken)).toThrow(/UPSTASH_REDIS_REST_URL is missing/);
    expect(thrown()).toBe(first);
  });
});

describe("LOG_LEVEL", () => {
  it("drops lines below the configured level once the configuration is loaded", async () => {
    const { log } = await import("./lib/log");
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    const warn = vi.spyOn(console, "warn").mockImplementation((line: string) => lines.push(line));
    try {
      loadConfig({ ...complete, LOG_LEVEL: "warn" });
      log("info", "dropped");
      log("warn", "kept");
      loadConfig({ ...complete, LOG_LEVEL: "info" });
      log("info", "kept too");
    } finally {
      spy.mockRestore();
      warn.mockRestore();
    }
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["kept", "kept too"]);
  });
});
