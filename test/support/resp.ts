/**
 * A minimal RESP2 client over node:net, for dev tooling and tests only (the Worker talks to
 * Upstash over HTTP and never loads this).
 *
 * Why not a Redis library: the Upstash-compatible bridge must re-encode replies exactly as
 * Upstash does, so it needs them exactly as Redis sent them: a simple string is not a bulk
 * string (Upstash leaves a bare "OK" unencoded), a nil bulk string is not a nil array, and the
 * per-command errors inside an EXEC reply must stay errors. Libraries flatten those differences.
 */
import { createConnection, type Socket } from "node:net";

/** One RESP2 reply, typed as Redis sent it. Error replies are values, not exceptions. */
export type RespReply =
  | { type: "simple"; value: string }
  | { type: "error"; message: string }
  | { type: "integer"; value: number }
  | { type: "bulk"; value: Buffer | null }
  | { type: "array"; value: RespReply[] | null };

/** A command argument: strings are sent as UTF-8, Buffers byte for byte. */
export type RespArgument = string | Buffer;

/** The connection failed, timed out or was closed: the command's outcome is unknown. */
export class RespConnectionError extends Error {
  override name = "RespConnectionError";
}

/** Redis sent bytes that are not RESP2 (or a reply nobody asked for). */
export class RespProtocolError extends Error {
  override name = "RespProtocolError";
}

export interface RedisAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Logical database selected after connecting. Default 0 (no SELECT sent). */
  db?: number;
}

export interface RespClientOptions extends RedisAddress {
  /** Give up connecting after this long. Default 1000 ms. */
  connectTimeoutMs?: number;
  /**
   * Fail a batch whose replies have not all arrived after this long. Default 5000 ms. The
   * connection is then dropped, because later replies could no longer be matched to commands.
   */
  commandTimeoutMs?: number;
}

/** Reads `redis://[user[:password]@]host[:port][/db]` (also `rediss:` is refused: no TLS here). */
export function parseRedisUrl(url: string): RedisAddress {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") {
    throw new Error(`Unsupported Redis URL ${JSON.stringify(url)}: only redis:// (no TLS) is supported`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : undefined,
  };
}

const CRLF = Buffer.from("\r\n");
// Redis refuses bulk strings over 512 MB; anything larger means we lost our place in the stream.
const MAX_BULK_BYTES = 512 * 1024 * 1024;

/** Encodes commands as RESP2 arrays of bulk strings, ready for one socket write. */
export function encodeCommands(commands: readonly (readonly RespArgument[])[]): Buffer {
  const parts: Buffer[] = [];
  for (const args of commands) {
    parts.push(Buffer.from(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = typeof arg === "string" ? Buffer.from(arg, "utf8") : arg;
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
    }
  }
  return Buffer.concat(parts);
}

interface Cursor {
  buffer: Buffer;
  offset: number;
  /** When a reply is incomplete: the buffer length needed before parsing can progress. */
  needed: number;
}

function readLine(cursor: Cursor): string | undefined {
  const end = cursor.buffer.indexOf(CRLF, cursor.offset);
  if (end < 0) {
    cursor.needed = cursor.buffer.length + 1;
    return undefined;
  }
  const line = cursor.buffer.toString("utf8", cursor.offset, end);
  cursor.offset = end + 2;
  return line;
}

function readLength(line: string, kind: string): number {
  if (!/^-?\d+$/.test(line)) throw new RespProtocolError(`Invalid ${kind} length ${JSON.stringify(line)}`);
  const length = Number(line);
  if (length < -1 || length > MAX_BULK_BYTES) throw new RespProtocolError(`Invalid ${kind} length ${length}`);
  return length;
}

/** Reads one reply at the cursor, or returns undefined (cursor untouched but `needed`) if incomplete. */
function readReply(cursor: Cursor): RespReply | undefined {
  const start = cursor.offset;
  if (start >= cursor.buffer.length) {
    cursor.needed = start + 1;
    return undefined;
  }
  const marker = String.fromCharCode(cursor.buffer[start] ?? 0);
  cursor.offset = start + 1;
  const line = readLine(cursor);
  if (line === undefined) {
    cursor.offset = start;
    return undefined;
  }
  switch (marker) {
    case "+":
      return { type: "simple", value: line };
    case "-":
      return { type: "error", message: line };
    case ":":
      if (!/^-?\d+$/.test(line)) throw new RespProtocolError(`Invalid integer ${JSON.stringify(line)}`);
      return { type: "integer", value: Number(line) };
    case "$": {
      const length = readLength(line, "bulk");
      if (length === -1) return { type: "bulk", value: null };
      const end = cursor.offset + length;
      if (end + 2 > cursor.buffer.length) {
        cursor.needed = end + 2;
        cursor.offset = start;
        return undefined;
      }
      // Copy, so a small value does not keep a large receive buffer alive.
      const value = Buffer.from(cursor.buffer.subarray(cursor.offset, end));
      cursor.offset = end + 2;
      return { type: "bulk", value };
    }
    case "*": {
      const count = readLength(line, "array");
      if (count === -1) return { type: "array", value: null };
      const items: RespReply[] = [];
      for (let i = 0; i < count; i++) {
        const item = readReply(cursor);
        if (item === undefined) {
          cursor.offset = start;
          return undefined;
        }
        items.push(item);
      }
      return { type: "array", value: items };
    }
    default:
      throw new RespProtocolError(`Unknown RESP2 type byte ${JSON.stringify(marker)}`);
  }
}

/** Incremental RESP2 reader: feed it socket chunks, get back every reply completed so far. */
export class RespParser {
  private chunks: Buffer[] = [];
  private length = 0;
  // Skip re-parsing until at least this many bytes are buffered (a large bulk arrives in pieces).
  private needed = 0;

  feed(chunk: Buffer): RespReply[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length < this.needed) return [];
    const buffer = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.length);
    const cursor: Cursor = { buffer, offset: 0, needed: 0 };
    const replies: RespReply[] = [];
    for (;;) {
      const reply = readReply(cursor);
      if (reply === undefined) break;
      replies.push(reply);
    }
    const rest = buffer.subarray(cursor.offset);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    this.needed = cursor.needed - cursor.offset;
    return replies;
  }
}

interface ReplyWaiter {
  resolve(reply: RespReply): void;
  reject(error: Error): void;
}

/**
 * One Redis connection with pipelining: commands are written as they come, replies are matched
 * in order. If the connection drops, waiting commands fail (never retried: a write may already
 * have happened) and the next command reconnects.
 */
export class RespClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private waiting: ReplyWaiter[] = [];
  private parser = new RespParser();
  private closed = false;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  constructor(private readonly options: RespClientOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
  }

  /** Sends one command. Resolves with its reply, error replies included; rejects on transport failure. */
  async command(args: readonly RespArgument[], options: { timeoutMs?: number } = {}): Promise<RespReply> {
    const [reply] = await this.pipeline([args], options);
    if (!reply) throw new RespProtocolError("No reply");
    return reply;
  }

  /**
   * Sends commands in one write (Redis runs them back to back); replies come in the same order.
   * `timeoutMs` overrides the per-batch timeout; 0 waits forever (for blocking commands).
   */
  async pipeline(
    commands: readonly (readonly RespArgument[])[],
    options: { timeoutMs?: number } = {},
  ): Promise<RespReply[]> {
    if (commands.length === 0) return [];
    const socket = await this.connection();
    return this.send(socket, commands, options.timeoutMs ?? this.commandTimeoutMs);
  }

  /** Closes the connection; waiting and later commands fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const socket = this.socket;
    if (!socket) return;
    const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    this.drop(socket, new RespConnectionError("Redis client closed"));
    await gone;
  }

  private send(
    socket: Socket,
    commands: readonly (readonly RespArgument[])[],
    timeoutMs: number,
  ): Promise<RespReply[]> {
    if (socket !== this.socket || socket.destroyed) {
      const { host, port } = this.options;
      return Promise.reject(new RespConnectionError(`Connection to Redis at ${host}:${port} was lost`));
    }
    // Register the waiters and write in the same tick, so concurrent callers' replies stay in order.
    const replies = Promise.all(
      commands.map(() => new Promise<RespReply>((resolve, reject) => this.waiting.push({ resolve, reject }))),
    );
    socket.write(encodeCommands(commands));
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) return replies;
    const timer = setTimeout(() => {
      const { host, port } = this.options;
      this.drop(
        socket,
        new RespConnectionError(`Redis at ${host}:${port} did not reply within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    return replies.finally(() => clearTimeout(timer));
  }

  private connection(): Promise<Socket> {
    if (this.closed) return Promise.reject(new RespConnectionError("Redis client closed"));
    // While connecting (handshake included), everyone waits for the same attempt.
    if (this.connecting) return this.connecting;
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private connect(): Promise<Socket> {
    const { host, port } = this.options;
    return new Promise<Socket>((resolve, reject) => {
      const socket = createConnection({ host, port });
      const timer = setTimeout(() => {
        socket.destroy(
          new RespConnectionError(
            `Connecting to Redis at ${host}:${port} timed out after ${this.connectTimeoutMs} ms`,
          ),
        );
      }, this.connectTimeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(
          error instanceof RespConnectionError
            ? error
            : new RespConnectionError(`Cannot reach Redis at ${host}:${port}: ${error.message}`, {
                cause: error,
              }),
        );
      };
      socket.once("error", fail);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", fail);
        if (this.closed) {
          socket.destroy();
          reject(new RespConnectionError("Redis client closed"));
          return;
        }
        socket.setNoDelay(true);
        this.attach(socket);
        this.handshake(socket).then(
          () => resolve(socket),
          (error: Error) => {
            this.drop(socket, error);
            reject(error);
          },
        );
      });
    });
  }

  /** AUTH and SELECT, when the address asks for them, before any caller's command. */
  private async handshake(socket: Socket): Promise<void> {
    const { username, password, db } = this.options;
    const commands: string[][] = [];
    if (password !== undefined) commands.push(username ? ["AUTH", username, password] : ["AUTH", password]);
    if (db !== undefined && db !== 0) commands.push(["SELECT", String(db)]);
    if (commands.length === 0) return;
    const replies = await this.send(socket, commands, this.connectTimeoutMs);
    const failed = replies.find((reply) => reply.type === "error");
    if (failed?.type === "error")
      throw new RespConnectionError(`Redis refused the connection: ${failed.message}`);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    this.parser = new RespParser();
    let lastError: Error | undefined;
    socket.on("data", (chunk: Buffer) => this.receive(socket, chunk));
    socket.on("error", (error) => {
      lastError = error;
    });
    socket.on("close", () => {
      const { host, port } = this.options;
      const reason = lastError ? `: ${lastError.message}` : "";
      this.drop(socket, new RespConnectionError(`Connection to Redis at ${host}:${port} closed${reason}`));
    });
  }

  private receive(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    let replies: RespReply[];
    try {
      replies = this.parser.feed(chunk);
    } catch (error) {
      this.drop(socket, error instanceof Error ? error : new RespProtocolError(String(error)));
      return;
    }
    for (const reply of replies) {
      const waiter = this.waiting.shift();
      if (!waiter) {
        this.drop(socket, new RespProtocolError("Redis sent a reply nobody was waiting for"));
        return;
      }
      waiter.resolve(reply);
    }
  }

  /** Forgets the connection and fails everything still waiting on it. */
  private drop(socket: Socket, error: Error): void {
    if (socket === this.socket) {
      this.socket = undefined;
      const waiting = this.waiting;
      this.waiting = [];
      for (const waiter of waiting) waiter.reject(error);
    }
    socket.destroy();
  }
}

export interface RespPoolOptions extends RespClientOptions {
  /** Most connections open at once; further callers queue. Default 16. */
  maxConnections?: number;
}

/**
 * A few RespClients handed out one caller at a time, so a blocking command (XREADGROUP BLOCK,
 * BLPOP) stalls only its own caller and a MULTI...EXEC block shares its connection with no one.
 */
export class RespPool {
  private readonly idle: RespClient[] = [];
  private readonly all: RespClient[] = [];
  private readonly queue: ((client: RespClient) => void)[] = [];
  private readonly maxConnections: number;
  private closed = false;

  constructor(private readonly options: RespPoolOptions) {
    this.maxConnections = options.maxConnections ?? 16;
  }

  /** Runs `use` with a connection no other caller is using, and gives it back afterwards. */
  async withConnection<T>(use: (client: RespClient) => Promise<T>): Promise<T> {
    const client = await this.lease();
    try {
      return await use(client);
    } finally {
      this.release(client);
    }
  }

  /** Closes every connection; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map((client) => client.close()));
  }

  private lease(): Promise<RespClient> {
    if (this.closed) return Promise.reject(new RespConnectionError("Redis pool closed"));
    const client = this.idle.pop();
    if (client) return Promise.resolve(client);
    if (this.all.length < this.maxConnections) {
      const created = new RespClient(this.options);
      this.all.push(created);
      return Promise.resolve(created);
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(client: RespClient): void {
    const next = this.queue.shift();
    if (next) next(client);
    else this.idle.push(client);
  }
}

/** Flattens a RESP reply into plain values. */
export function plain(reply: RespReply): unknown {
  switch (reply.type) {
    case "simple":
    case "integer":
      return reply.value;
    case "error":
      return new Error(reply.message);
    case "bulk":
      return reply.value === null ? null : reply.value.toString("utf8");
    case "array":
      return reply.value === null ? null : reply.value.map(plain);
  }
}
