/**
 * Upstash-REST-compatible bridge to a real redis-server. Dev and tests only: production talks to
 * real Upstash. It lets the unchanged `@upstash/redis` client (and so the Worker) run against a
 * local Redis, with the wire protocol that client speaks (checked against @upstash/redis 1.39):
 *
 * - `POST /` with a JSON command `["SET","k","v"]` → 200 `{"result": ...}`, or 400 `{"error": "..."}`
 *   when Redis answers with an error.
 * - `POST /pipeline` with a JSON array of commands → 200 `[{"result"}|{"error"}, ...]`, one item per
 *   command, not atomic. (The client's default auto-pipelining sends even single calls here.)
 * - `POST /multi-exec` → the same items, run atomically inside MULTI/EXEC.
 * - `Authorization: Bearer <token>` is required: otherwise 401 `{"error":"Unauthorized"}`.
 * - `Upstash-Encoding: base64` → every string in a result is base64 of its bytes, except a top-level
 *   "OK" status, which stays "OK" (the client's decoder special-cases exactly that). Errors are
 *   never encoded. Without the header, strings are sent as UTF-8 text.
 *
 * It also counts requests and keeps a short log of commands, so tests can assert "one Redis round
 * trip per API call". When Redis is down it answers at once with 503, and recovers by itself.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseRedisUrl, RespConnectionError, RespPool, RespProtocolError, type RespReply } from "./resp";

export interface RedisBridge {
  /** Base URL for `new Redis({ url, token })`, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  token: string;
  /** HTTP requests received on the command endpoints since start or the last reset. */
  requestCount(): number;
  resetCount(): void;
  /** The most recent commands (oldest first, at most 1000, long arguments shortened). */
  commandLog(): string[][];
  close(): Promise<void>;
}

export interface RedisBridgeOptions {
  /** `redis://[user:password@]host:port[/db]` of the real Redis. */
  redisUrl: string;
  /** The bearer token clients must send. */
  token: string;
  /** Port to listen on. Default 0: a free port. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Largest request body accepted. Default 10 MB. */
  maxBodyBytes?: number;
  /** How long to wait to connect to Redis before answering 503. Default 500 ms. */
  connectTimeoutMs?: number;
  /** How long a request may wait for Redis (plus any BLOCK/timeout it asks for). Default 5000 ms. */
  commandTimeoutMs?: number;
}

type Command = string[];
type JsonValue = string | number | null | JsonValue[];
type CommandOutcome = { result: JsonValue } | { error: string };

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const COMMAND_LOG_SIZE = 1000;
const LOGGED_ARGUMENT_CHARS = 256;

// Commands that would change the state of a pooled connection or switch it out of request/reply
// mode, so the bridge refuses them. Over Upstash REST, transactions go through /multi-exec and
// subscriptions through a streaming endpoint, which this bridge does not implement.
const UNAVAILABLE_COMMANDS = new Set([
  "AUTH",
  "DISCARD",
  "EXEC",
  "HELLO",
  "MONITOR",
  "MULTI",
  "PSUBSCRIBE",
  "PSYNC",
  "PUNSUBSCRIBE",
  "QUIT",
  "RESET",
  "SELECT",
  "SSUBSCRIBE",
  "SUBSCRIBE",
  "SUNSUBSCRIBE",
  "SYNC",
  "UNSUBSCRIBE",
  "UNWATCH",
  "WATCH",
]);

/** Starts the bridge on 127.0.0.1 (a free port unless `port` is given). */
export async function startRedisBridge(options: RedisBridgeOptions): Promise<RedisBridge> {
  const redis = new RespPool({
    ...parseRedisUrl(options.redisUrl),
    connectTimeoutMs: options.connectTimeoutMs ?? 500,
    commandTimeoutMs: 0, // per request instead, see timeoutFor()
  });
  const commandTimeoutMs = options.commandTimeoutMs ?? 5000;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const expectedAuthorization = Buffer.from(`Bearer ${options.token}`);
  let requests = 0;
  const log: string[][] = [];

  const remember = (commands: Command[]) => {
    for (const command of commands) {
      log.push(
        command.map((arg) =>
          arg.length > LOGGED_ARGUMENT_CHARS ? `${arg.slice(0, LOGGED_ARGUMENT_CHARS)}…` : arg,
        ),
      );
    }
    if (log.length > COMMAND_LOG_SIZE) log.splice(0, log.length - COMMAND_LOG_SIZE);
  };

  const isAuthorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expectedAuthorization.length && timingSafeEqual(given, expectedAuthorization);
  };

  const runCommand = async (command: Command, base64: boolean): Promise<Reply> => {
    const unavailable = unavailableError(command);
    if (unavailable) return { status: 400, body: { error: unavailable } };
    remember([command]);
    const reply = await redis.withConnection((client) =>
      client.command(command, { timeoutMs: timeoutFor([command], commandTimeoutMs) }),
    );
    if (reply.type === "error") return { status: 400, body: { error: reply.message } };
    return { status: 200, body: { result: toUpstashResult(reply, base64) } };
  };

  const runPipeline = async (commands: Command[], base64: boolean): Promise<Reply> => {
    // Refused commands get their error item and are not sent; the rest still run (not atomic).
    const refused = commands.map(unavailableError);
    const toSend = commands.filter((_, i) => refused[i] === undefined);
    remember(toSend);
    const replies = await redis.withConnection((client) =>
      client.pipeline(toSend, { timeoutMs: timeoutFor(toSend, commandTimeoutMs) }),
    );
    let next = 0;
    const items = commands.map((_, i): CommandOutcome => {
      const error = refused[i];
      if (error !== undefined) return { error };
      return toOutcome(replies[next++], base64);
    });
    return { status: 200, body: items };
  };

  const runTransaction = async (commands: Command[], base64: boolean): Promise<Reply> => {
    const refused = commands.map(unavailableError).find((error) => error !== undefined);
    if (refused) return { status: 400, body: { error: refused } };
    remember(commands);
    // One write, one connection: MULTI, the commands, EXEC. Redis runs the block atomically.
    const replies = await redis.withConnection((client) =>
      client.pipeline([["MULTI"], ...commands, ["EXEC"]], {
        timeoutMs: timeoutFor(commands, commandTimeoutMs),
      }),
    );
    const exec = replies[replies.length - 1];
    if (exec?.type === "array" && exec.value) {
      return { status: 200, body: exec.value.map((reply) => toOutcome(reply, base64)) };
    }
    // EXECABORT: a command was refused while queueing (wrong arity, unknown command), so nothing ran.
    const queueError = replies.slice(1, -1).find((reply) => reply.type === "error");
    const reason = exec?.type === "error" ? exec.message : "ERR transaction was not executed";
    const detail = queueError?.type === "error" ? ` (${queueError.message})` : "";
    return { status: 400, body: { error: `${reason}${detail}` } };
  };

  const answer = async (req: IncomingMessage): Promise<Reply> => {
    const endpoint = ENDPOINTS.get((req.url ?? "/").split("?")[0] ?? "/");
    if (!endpoint) return { status: 404, body: { error: "ERR not found" } };
    requests++;
    if (req.method !== "POST") return { status: 405, body: { error: "ERR method not allowed, use POST" } };
    if (!isAuthorized(req)) return { status: 401, body: { error: "Unauthorized" } };
    const body = await readBody(req, maxBodyBytes);
    if (body === TOO_LARGE) {
      return {
        status: 413,
        body: { error: `ERR request body is larger than ${maxBodyBytes} bytes` },
        close: true,
      };
    }
    const parsed = parseJson(body);
    if (parsed === INVALID_JSON)
      return { status: 400, body: { error: "ERR request body is not valid JSON" } };
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    if (endpoint === "command") {
      const command = toCommand(parsed);
      if (typeof command === "string") return { status: 400, body: { error: command } };
      return runCommand(command, base64);
    }
    const commands = toCommandList(parsed);
    if (typeof commands === "string") return { status: 400, body: { error: commands } };
    return endpoint === "pipeline" ? runPipeline(commands, base64) : runTransaction(commands, base64);
  };

  const server = createServer((req, res) => {
    req.on("error", () => {}); // a client hanging up mid-body is its problem, not a crash
    answer(req)
      .catch((error: unknown): Reply => {
        if (error instanceof RespConnectionError || error instanceof RespProtocolError) {
          return { status: 503, body: { error: `ERR Redis is unavailable: ${error.message}` } };
        }
        const message = error instanceof Error ? error.message : String(error);
        return { status: 500, body: { error: `ERR bridge failure: ${message}` } };
      })
      .then((reply) => send(res, reply));
  });
  server.on("clientError", (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    token: options.token,
    requestCount: () => requests,
    resetCount: () => {
      requests = 0;
    },
    commandLog: () => log.map((command) => [...command]),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The client keeps connections alive; without this, close() waits for them to time out.
      server.closeAllConnections();
      await Promise.all([closed, redis.close()]);
    },
  };
}

interface Reply {
  status: number;
  body: { result: JsonValue } | { error: string } | CommandOutcome[];
  /** Close the connection after answering (the rest of an oversized body is not read). */
  close?: boolean;
}

const ENDPOINTS = new Map<string, "command" | "pipeline" | "transaction">([
  ["/", "command"],
  ["/pipeline", "pipeline"],
  ["/multi-exec", "transaction"],
]);

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    ...(reply.close ? { connection: "close" } : {}),
  });
  res.end(payload);
}

const TOO_LARGE = Symbol("too large");
const INVALID_JSON = Symbol("invalid JSON");

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > limit) {
      req.resume();
      resolve(TOO_LARGE);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume(); // discard the rest
        resolve(TOO_LARGE);
      } else {
        chunks.push(chunk);
      }
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return INVALID_JSON;
  }
}

/** A command is a non-empty array of strings, numbers or booleans (the client sends all three). */
function toCommand(value: unknown): Command | string {
  if (!Array.isArray(value) || value.length === 0) {
    return 'ERR a command must be a non-empty JSON array, like ["SET","key","value"]';
  }
  const command: Command = [];
  for (const arg of value) {
    if (typeof arg === "string") command.push(arg);
    else if ((typeof arg === "number" && Number.isFinite(arg)) || typeof arg === "boolean")
      command.push(String(arg));
    else return `ERR command arguments must be strings or numbers, got ${JSON.stringify(arg)}`;
  }
  return command;
}

function toCommandList(value: unknown): Command[] | string {
  if (!Array.isArray(value) || value.length === 0) {
    return "ERR a pipeline or transaction must be a non-empty JSON array of commands";
  }
  const commands: Command[] = [];
  for (const item of value) {
    const command = toCommand(item);
    if (typeof command === "string") return command;
    commands.push(command);
  }
  return commands;
}

function unavailableError(command: Command): string | undefined {
  const name = (command[0] ?? "").toUpperCase();
  const subcommand = (command[1] ?? "").toUpperCase();
  // CLIENT REPLY OFF would leave the pooled connection answering nothing.
  if (UNAVAILABLE_COMMANDS.has(name) || (name === "CLIENT" && subcommand === "REPLY")) {
    return `ERR Command is not available: '${command[0]?.toLowerCase()}'`;
  }
  return undefined;
}

/**
 * Time a batch may take: the bridge's timeout plus whatever the commands ask to block for.
 * 0 means no limit (a command blocking forever, as the caller asked).
 */
function timeoutFor(commands: Command[], baseMs: number): number {
  let total = baseMs;
  for (const command of commands) {
    const blockMs = blockingMs(command);
    if (blockMs === Number.POSITIVE_INFINITY) return 0;
    total += blockMs;
  }
  return total;
}

function blockingMs(command: Command): number {
  const name = (command[0] ?? "").toUpperCase();
  const seconds = (value: string | undefined) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) return 0;
    return parsed === 0 ? Number.POSITIVE_INFINITY : parsed * 1000;
  };
  switch (name) {
    case "XREAD":
    case "XREADGROUP": {
      const at = command.findIndex((arg) => arg.toUpperCase() === "BLOCK");
      if (at < 0) return 0;
      const ms = Number(command[at + 1]);
      if (!Number.isFinite(ms) || ms < 0) return 0;
      return ms === 0 ? Number.POSITIVE_INFINITY : ms;
    }
    case "BLPOP":
    case "BRPOP":
    case "BZPOPMIN":
    case "BZPOPMAX":
    case "BRPOPLPUSH":
    case "BLMOVE":
      return seconds(command[command.length - 1]);
    case "BLMPOP":
    case "BZMPOP":
      return seconds(command[1]);
    default:
      return 0;
  }
}

function toOutcome(reply: RespReply | undefined, base64: boolean): CommandOutcome {
  if (!reply) return { error: "ERR no reply from Redis" };
  if (reply.type === "error") return { error: reply.message };
  return { result: toUpstashResult(reply, base64) };
}

/**
 * A Redis reply as Upstash puts it in `result`. With base64, every string is encoded, except a
 * top-level "OK" status: the client's decoder keeps a bare "OK" but base64-decodes every string
 * inside an array, so a nested "OK" must be encoded ("T0s=") to come out right.
 */
export function toUpstashResult(reply: RespReply, base64: boolean, topLevel = true): JsonValue {
  switch (reply.type) {
    case "simple":
      if (!base64 || (topLevel && reply.value === "OK")) return reply.value;
      return Buffer.from(reply.value, "utf8").toString("base64");
    case "error":
      // Only reachable nested (a Lua table holding an error): Upstash has no slot for it, send the text.
      return base64 ? Buffer.from(reply.message, "utf8").toString("base64") : reply.message;
    case "integer":
      return reply.value;
    case "bulk":
      if (reply.value === null) return null;
      return base64 ? reply.value.toString("base64") : reply.value.toString("utf8");
    case "array":
      if (reply.value === null) return null;
      return reply.value.map((item) => toUpstashResult(item, base64, false));
  }
}
