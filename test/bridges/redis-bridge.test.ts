/**
 * The unchanged @upstash/redis client against the Upstash-compatible bridge and a real
 * redis-server of our own (fresh port, no shared data, stopped at the end).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisBridge, startRedisBridge } from "../support/redis-bridge";
import {
  findOrStartRedis,
  pingRedis,
  REDIS_INSTALL_COMMAND,
  type RedisServerHandle,
  startRedisServer,
} from "../support/redis-server";

const TOKEN = "bridge-test-token";

let server: RedisServerHandle;
let bridge: RedisBridge;

beforeAll(async () => {
  server = await startRedisServer();
  bridge = await startRedisBridge({ redisUrl: server.url, token: TOKEN });
});

afterAll(async () => {
  await bridge?.close();
  await server?.stop();
});

let keyCounter = 0;
/** A key no other test uses. */
const key = (name: string) => `${name}:${++keyCounter}`;

/** The client as the Worker builds it: default settings (base64 responses, auto-pipelining). */
const defaultClient = () => new Redis({ url: bridge.url, token: TOKEN });

/** Every knob off: plain-text responses, raw results, one HTTP request per call on `POST /`. */
const plainClient = () =>
  new Redis({
    url: bridge.url,
    token: TOKEN,
    responseEncoding: false,
    automaticDeserialization: false,
    enableAutoPipelining: false,
  });

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("the @upstash/redis client through the bridge", () => {
  it("sets, gets and increments", async () => {
    const redis = defaultClient();
    const name = key("greeting");
    const counter = key("counter");
    expect(await redis.set(name, "hello")).toBe("OK");
    expect(await redis.get(name)).toBe("hello");
    expect(await redis.incr(counter)).toBe(1);
    expect(await redis.incrby(counter, 41)).toBe(42);
    expect(await redis.get(key("missing"))).toBeNull();
  });

  it("round-trips JSON values", async () => {
    const redis = defaultClient();
    const value = { customer: "cus_123", units: 3, tags: ["a", "ü"], nested: { ok: true, none: null } };
    const name = key("json");
    await redis.set(name, value);
    expect(await redis.get(name)).toEqual(value);

    const hash = key("hash");
    await redis.hset(hash, { plan: "pro", limit: 100, meta: { since: "2024-01-01" } });
    expect(await redis.hgetall(hash)).toEqual({ plan: "pro", limit: 100, meta: { since: "2024-01-01" } });
  });

  it("keeps unicode and base64-looking strings exact, in both encodings", async () => {
    const tricky = [
      "héllo wörld ✓ 🚀",
      "OK",
      "T0s=",
      "PONG",
      "",
      "line\r\nbreak",
      "nul\u0000byte",
      "  padded  ",
    ];
    for (const redis of [defaultClient(), plainClient()]) {
      const names = tricky.map(() => key("tricky"));
      for (const [i, name] of names.entries()) await redis.set(name, tricky[i]);
      expect(await redis.mget(...names)).toEqual(tricky);
    }
  });

  it("returns raw strings when automatic deserialization is off", async () => {
    const redis = plainClient();
    const name = key("raw");
    await redis.set(name, JSON.stringify({ a: 1 }));
    expect(await redis.get(name)).toBe('{"a":1}');
  });

  it("turns a Redis error reply into a rejected promise", async () => {
    const name = key("not-a-number");
    await defaultClient().set(name, "abc");
    await expect(defaultClient().incr(name)).rejects.toThrow(/ERR value is not an integer/);
    await expect(plainClient().incr(name)).rejects.toThrow(/ERR value is not an integer/);
  });
});

describe("the Upstash wire protocol", () => {
  it("answers POST / with {result}, base64-encoding strings only when asked", async () => {
    const name = key("wire");
    expect(await post("/", ["SET", name, "v1"])).toEqual({ status: 200, body: { result: "OK" } });
    // A bare "OK" status stays unencoded: the client's decoder relies on it.
    expect(await post("/", ["SET", name, "v1"], { "Upstash-Encoding": "base64" })).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect((await post("/", ["GET", name])).body).toEqual({ result: "v1" });
    expect((await post("/", ["GET", name], { "Upstash-Encoding": "base64" })).body).toEqual({
      result: b64("v1"),
    });
    // Other status replies are strings like any other, so they are encoded.
    expect((await post("/", ["PING"], { "Upstash-Encoding": "base64" })).body).toEqual({
      result: b64("PONG"),
    });
    expect((await post("/", ["GET", key("absent")])).body).toEqual({ result: null });
    expect((await post("/", ["INCR", key("n")], { "Upstash-Encoding": "base64" })).body).toEqual({
      result: 1,
    });
  });

  it("encodes nested arrays element by element, including a nested OK", async () => {
    const script = "return {1, 'two', {redis.status_reply('OK'), 'OK'}, false}";
    expect((await post("/", ["EVAL", script, "0"])).body).toEqual({ result: [1, "two", ["OK", "OK"], null] });
    expect((await post("/", ["EVAL", script, "0"], { "Upstash-Encoding": "base64" })).body).toEqual({
      result: [1, b64("two"), [b64("OK"), b64("OK")], null],
    });
    expect(await defaultClient().eval(script, [], [])).toEqual([1, "two", ["OK", "OK"], null]);
  });

  it("is binary-safe with base64", async () => {
    const name = key("bytes");
    await post("/", [
      "EVAL",
      "redis.call('SET', KEYS[1], string.char(0, 255, 128, 10, 13)) return 1",
      "1",
      name,
    ]);
    const { body } = await post("/", ["GET", name], { "Upstash-Encoding": "base64" });
    const encoded = (body as { result: string }).result;
    expect([...Buffer.from(encoded, "base64")]).toEqual([0, 255, 128, 10, 13]);
  });

  it("carries a 1 MB value", async () => {
    const redis = defaultClient();
    const name = key("big");
    const big = "é".repeat(512 * 1024);
    await redis.set(name, big);
    expect(await redis.get(name)).toBe(big);
  });

  it("answers a Redis error with 400 and {error}", async () => {
    const name = key("wrongtype");
    await post("/", ["SET", name, "x"]);
    expect(await post("/", ["HGET", name, "f"])).toEqual({
      status: 400,
      body: { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    });
    const unknown = await post("/", ["NOSUCHCOMMAND"]);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: expect.stringMatching(/^ERR unknown command/) });
  });

  it("refuses connection-state commands instead of corrupting its connections", async () => {
    for (const command of [["MULTI"], ["SUBSCRIBE", "c"], ["SELECT", "1"], ["CLIENT", "REPLY", "OFF"]]) {
      const answer = await post("/", command);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: expect.stringMatching(/^ERR Command is not available/) });
    }
    expect((await post("/", ["PING"])).body).toEqual({ result: "PONG" });
  });

  it("answers bad input with 400 and keeps serving", async () => {
    const bad = ["not json", "{}", "[]", "[[]]", "[null]", '[{"a":1}]', '["SET", "k", {"v":1}]'];
    for (const body of bad) {
      const answer = await post("/", body);
      expect(answer.status, body).toBe(400);
      expect(answer.body, body).toEqual({ error: expect.stringMatching(/^ERR /) });
    }
    for (const body of ["[]", '[["PING"], "PING"]', '{"cmd":["PING"]}']) {
      expect((await post("/pipeline", body)).status, body).toBe(400);
      expect((await post("/multi-exec", body)).status, body).toBe(400);
    }
    expect((await post("/", ["PING"])).body).toEqual({ result: "PONG" });
  });

  it("answers unknown paths with 404 and other methods with 405", async () => {
    expect((await post("/nope", ["PING"])).status).toBe(404);
    const get = await fetch(`${bridge.url}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ error: expect.stringMatching(/^ERR /) });
  });

  it("refuses a body over the limit with 413", async () => {
    const small = await startRedisBridge({ redisUrl: server.url, token: TOKEN, maxBodyBytes: 1024 });
    try {
      const response = await fetch(`${small.url}/`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(["SET", key("huge"), "x".repeat(4096)]),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/larger than 1024 bytes/) });
      const client = new Redis({ url: small.url, token: TOKEN });
      expect(await client.ping()).toBe("PONG");
    } finally {
      await small.close();
    }
  });
});

describe("authentication", () => {
  it("rejects a wrong or missing token with 401 and runs nothing", async () => {
    const name = key("guarded");
    const intruder = new Redis({ url: bridge.url, token: "wrong-token" });
    await expect(intruder.set(name, "x")).rejects.toThrow(/Unauthorized/);

    const missing = await fetch(`${bridge.url}/`, {
      method: "POST",
      body: JSON.stringify(["SET", name, "x"]),
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: "Unauthorized" });
    expect(await post("/", ["SET", name, "x"], { authorization: "Basic abc" })).toEqual({
      status: 401,
      body: { error: "Unauthorized" },
    });

    expect(bridge.commandLog().some((command) => command.includes(name))).toBe(false);
    expect(await defaultClient().exists(name)).toBe(0);
  });
});

describe("pipelines", () => {
  it("runs every command, reporting errors per command (not atomic)", async () => {
    const redis = defaultClient();
    const name = key("p");
    const text = key("p-text");
    await redis.set(text, "abc");

    bridge.resetCount();
    const results = await redis.pipeline().set(name, "v").incr(text).get(name).exec({ keepErrors: true });
    expect(bridge.requestCount()).toBe(1);
    expect(results).toEqual([
      { result: "OK", error: undefined },
      { result: undefined, error: expect.stringMatching(/ERR value is not an integer/) },
      { result: "v", error: undefined },
    ]);

    await expect(redis.pipeline().incr(text).exec()).rejects.toThrow(/Command 1 \[ incr \] failed/);
  });
});

describe("transactions (multi-exec)", () => {
  it("runs the commands in one request and returns their results", async () => {
    const redis = defaultClient();
    const name = key("tx");
    const counter = key("tx-count");
    bridge.resetCount();
    expect(await redis.multi().set(name, "x").incr(counter).get(name).exec()).toEqual(["OK", 1, "x"]);
    expect(bridge.requestCount()).toBe(1);
    expect(bridge.commandLog().slice(-3)).toEqual([
      ["set", name, "x"],
      ["incr", counter],
      ["get", name],
    ]);
  });

  it("discards the whole transaction when a command is refused while queueing", async () => {
    const name = key("tx-abort");
    const answer = await post("/multi-exec", [
      ["SET", name, "x"],
      ["SET", name],
      ["INCR", name],
    ]);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: expect.stringMatching(/^EXECABORT .*wrong number of arguments/) });
    expect(await defaultClient().exists(name)).toBe(0);
  });

  it("reports a runtime error per command and, like Redis, keeps the other commands' effects", async () => {
    const redis = defaultClient();
    const name = key("tx-runtime");
    const after = key("tx-after");
    const results = await redis
      .multi()
      .set(name, "v")
      .hget(name, "f")
      .set(after, "done")
      .exec({ keepErrors: true });
    expect(results).toEqual([
      { result: "OK", error: undefined },
      { result: undefined, error: expect.stringMatching(/^WRONGTYPE/) },
      { result: "OK", error: undefined },
    ]);
    expect(await redis.get(after)).toBe("done");
    await expect(redis.multi().hget(name, "f").exec()).rejects.toThrow(/WRONGTYPE/);
  });
});

describe("scripts", () => {
  it("createScript tries EVALSHA, falls back to EVAL on NOSCRIPT, then uses EVALSHA", async () => {
    const redis = defaultClient();
    const script = redis.createScript<string>(`return ARGV[1] -- ${key("script")}`);
    bridge.resetCount();
    expect(await script.exec([], ["first"])).toBe("first");
    expect(bridge.requestCount()).toBe(2);
    expect(
      bridge
        .commandLog()
        .slice(-2)
        .map((command) => command[0]?.toLowerCase()),
    ).toEqual(["evalsha", "eval"]);

    bridge.resetCount();
    expect(await script.exec([], ["second"])).toBe("second");
    expect(bridge.requestCount()).toBe(1);
    expect(bridge.commandLog().at(-1)?.[0]?.toLowerCase()).toBe("evalsha");
  });

  it("rejects a raw EVALSHA of an unknown script with NOSCRIPT", async () => {
    const unknownSha = "0".repeat(40);
    await expect(defaultClient().evalsha(unknownSha, [], [])).rejects.toThrow(/NOSCRIPT/);
    await expect(plainClient().evalsha(unknownSha, [], [])).rejects.toThrow(/NOSCRIPT/);
  });
});

describe("streams", () => {
  it("XADD, XREADGROUP, XPENDING, XAUTOCLAIM and XACK keep their nested shapes", async () => {
    const redis = defaultClient();
    const stream = key("usage");
    await redis.xgroup(stream, { type: "CREATE", group: "flusher", id: "$", options: { MKSTREAM: true } });
    const first = await redis.xadd(stream, "*", { customer: "cus_1", units: "3", note: "héllo" });
    const second = await redis.xadd(stream, "*", { customer: "cus_2", units: "1", note: "OK" });
    expect(first).toMatch(/^\d+-\d+$/);

    const read = await redis.xreadgroup("flusher", "worker-a", stream, ">", { count: 10 });
    expect(read).toEqual([
      [
        stream,
        [
          [first, ["customer", "cus_1", "units", 3, "note", "héllo"]],
          [second, ["customer", "cus_2", "units", 1, "note", "OK"]],
        ],
      ],
    ]);
    // Nothing new: Redis answers a nil array, which arrives as null (after blocking 100 ms).
    const started = Date.now();
    expect(await redis.xreadgroup("flusher", "worker-a", stream, ">", { blockMS: 100 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);

    const pending = await redis.xpending(stream, "flusher", "-", "+", 10);
    expect(pending).toEqual([
      [first, "worker-a", expect.any(Number), 1],
      [second, "worker-a", expect.any(Number), 1],
    ]);

    const claimed = await redis.xautoclaim(stream, "flusher", "worker-b", 0, "0-0", { count: 1 });
    expect(claimed).toEqual([second, [[first, ["customer", "cus_1", "units", 3, "note", "héllo"]]], []]);

    expect(await redis.xack(stream, "flusher", [first, second])).toBe(2);
    expect(await redis.xpending(stream, "flusher", "-", "+", 10)).toEqual([]);
  });

  it("reads the same stream shapes as plain text without deserialization", async () => {
    const redis = plainClient();
    const stream = key("usage-plain");
    await redis.xgroup(stream, { type: "CREATE", group: "g", id: "0", options: { MKSTREAM: true } });
    const id = await redis.xadd(stream, "*", { units: "7" });
    expect(await redis.xreadgroup("g", "c", stream, ">")).toEqual([[stream, [[id, ["units", "7"]]]]]);
  });
});

describe("request counting", () => {
  it("counts one request per HTTP round trip and logs the commands", async () => {
    const name = key("counted");
    bridge.resetCount();
    await defaultClient().set(name, "1");
    expect(bridge.requestCount()).toBe(1);
    await plainClient().get(name);
    expect(bridge.requestCount()).toBe(2);
    await defaultClient().pipeline().get(name).incr(name).get(name).exec();
    expect(bridge.requestCount()).toBe(3);
    expect(bridge.commandLog().slice(-5)).toEqual([
      ["set", name, "1"],
      ["get", name],
      ["get", name],
      ["incr", name],
      ["get", name],
    ]);
    bridge.resetCount();
    expect(bridge.requestCount()).toBe(0);
  });

  it("keeps the command log bounded and shortens long arguments", async () => {
    const redis = new Redis({ url: bridge.url, token: TOKEN, enableAutoPipelining: false });
    const name = key("log");
    await redis.set(name, "x".repeat(10_000));
    const logged = bridge.commandLog().at(-1);
    expect(logged?.[1]).toBe(name);
    expect(logged?.[2]?.length).toBeLessThan(300);

    const many = Array.from({ length: 1100 }, (_, i) => ["ECHO", String(i)]);
    await post("/pipeline", many);
    const log = bridge.commandLog();
    expect(log).toHaveLength(1000);
    expect(log.at(-1)).toEqual(["ECHO", "1099"]);
  });
});

describe("when Redis goes away", () => {
  let outage: RedisServerHandle;
  let outageBridge: RedisBridge;

  beforeAll(async () => {
    outage = await startRedisServer();
    outageBridge = await startRedisBridge({ redisUrl: outage.url, token: TOKEN });
  });

  afterAll(async () => {
    await outageBridge?.close();
    await outage?.stop();
  });

  it("fails fast with an error body and recovers when Redis is back", async () => {
    const redis = new Redis({ url: outageBridge.url, token: TOKEN });
    expect(await redis.set("k", "before")).toBe("OK"); // the bridge now holds an open connection

    await outage.stop();
    expect(await pingRedis(outage.host, outage.port)).toBe(false);
    const started = Date.now();
    await expect(redis.get("k")).rejects.toThrow(/Redis is unavailable/);
    expect(Date.now() - started).toBeLessThan(1000);

    const raw = await fetch(`${outageBridge.url}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(["GET", "k"]),
    });
    expect(raw.status).toBe(503);
    expect(await raw.json()).toEqual({ error: expect.stringMatching(/^ERR Redis is unavailable/) });

    await outage.start(); // same port, empty data
    expect(await redis.get("k")).toBeNull();
    expect(await redis.set("k", "after")).toBe("OK");
    expect(await redis.get("k")).toBe("after");
  });
});

describe("finding a Redis", () => {
  it("uses REDIS_URL when set, without owning it", async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = server.url;
    try {
      const found = await findOrStartRedis();
      expect(found).toMatchObject({ url: server.url, host: "127.0.0.1", port: server.port, owned: false });
      await found.stop(); // a no-op for a Redis we do not own
      expect(await pingRedis(server.host, server.port)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  it("stops and restarts an owned server on the same port", async () => {
    const own = await startRedisServer();
    try {
      expect(own.owned).toBe(true);
      expect(own.url).toBe(`redis://127.0.0.1:${own.port}`);
      expect(await pingRedis(own.host, own.port)).toBe(true);
      await own.stop();
      expect(await pingRedis(own.host, own.port)).toBe(false);
      await own.start();
      expect(await pingRedis(own.host, own.port)).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it("names the install command when redis-server is missing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "no-redis-"));
    try {
      await expect(startRedisServer({ searchDirs: [empty] })).rejects.toThrow(REDIS_INSTALL_COMMAND);
      expect(REDIS_INSTALL_COMMAND).toBe("sudo apt-get install -y redis-server");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
