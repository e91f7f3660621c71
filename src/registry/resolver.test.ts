import { describe, expect, it } from "vitest";
import { DatabaseError } from "../adapters/supabase";
import { Refusal } from "../refusal";
import { createRegistryResolver, parseRegistryUri, registryUri } from "./resolver";

const version = (v: number, retired: string | null = null) => ({
  name: "orders",
  version: v,
  latest_version: v,
  content_hash: "a".repeat(64),
  bytes: 10,
  published_at: "2026-12-01T00:00:00Z",
  retired_at: retired,
});

function fakeDb() {
  const state = { reply: version(1) as unknown, calls: 0, down: false };
  return {
    state,
    db: {
      async rpc<T>(fn: string): Promise<T> {
        state.calls++;
        if (state.down) throw new DatabaseError(fn, "FETCH_ERROR", 0, "connection refused");
        return state.reply as T;
      },
    },
  };
}

describe("registry resolver", () => {
  it("trusts a pointer for the TTL, then asks again; forget drops it at once", async () => {
    let now = 0;
    const { db, state } = fakeDb();
    const resolver = createRegistryResolver({ db, latestTtlSeconds: 5, now: () => now });
    expect((await resolver.pointer("acc", { name: "orders" })).version).toBe(1);
    state.reply = version(2);
    expect((await resolver.pointer("acc", { name: "orders" })).version).toBe(1);
    now = 5001;
    expect((await resolver.pointer("acc", { name: "orders" })).version).toBe(2);
    state.reply = version(3);
    resolver.forget("acc", "orders");
    expect((await resolver.pointer("acc", { name: "orders" })).version).toBe(3);
    expect(state.calls).toBe(3);
  });

  it("keeps the last pointer while Postgres is unreachable, and says retired names are retired", async () => {
    let now = 0;
    const { db, state } = fakeDb();
    const resolver = createRegistryResolver({ db, latestTtlSeconds: 1, now: () => now });
    await resolver.pointer("acc", { name: "orders" });
    state.down = true;
    now = 10_000;
    expect((await resolver.pointer("acc", { name: "orders" })).version).toBe(1);
    await expect(resolver.pointer("acc", { name: "other" })).rejects.toBeInstanceOf(DatabaseError);
    state.down = false;
    state.reply = version(1, "2026-12-01T01:00:00Z");
    now = 20_000;
    await expect(resolver.pointer("acc", { name: "orders" })).rejects.toMatchObject({
      code: "SCHEMA_RETIRED",
    });
    state.reply = null;
    await expect(resolver.pointer("acc", { name: "gone" })).rejects.toBeInstanceOf(Refusal);
  });

  it("reads registry URIs only with a version", () => {
    expect(parseRegistryUri(registryUri("orders", 3))).toEqual({ name: "orders", version: 3 });
    expect(parseRegistryUri("urn:schema-meter:schema:orders")).toBeUndefined();
    expect(parseRegistryUri("https://example.com/orders@1")).toBeUndefined();
  });
});
