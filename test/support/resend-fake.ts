/**
 * A local stand-in for Resend's send API (`POST /emails`), for `npm run dev` and the tests: it
 * records each message it would have sent (tests read the sign-in link from it; dev prints it),
 * and refuses what Resend refuses, with Resend's error shape `{statusCode, name, message}`:
 *   - bearer API key: none 401 `missing_api_key`, a wrong one 403 `invalid_api_key`;
 *   - JSON body with `from` ("address" or "Name <address>"), `to` (an address or 1-50 of them),
 *     `subject`, and `html` or `text`: 422 `missing_required_field` / `validation_error`;
 *   - `Idempotency-Key` (at most 256 characters, kept 24 h): the same key and body answer the
 *     first id and send nothing; the same key with another body is 409 `invalid_idempotent_request`;
 *   - the default rate limit, 2 requests per second per key: 429 `rate_limit_exceeded`.
 * `failNext(n, status)` makes the next n sends fail (500 `application_error` or any status).
 */
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SentEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  idempotencyKey: string | null;
  /** Fake-clock ms when accepted. */
  at: number;
}

export interface ResendFake {
  url: string;
  apiKey: string;
  messages(): SentEmail[];
  /** The messages sent to `address`, oldest first. */
  messagesTo(address: string): SentEmail[];
  clear(): void;
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

export interface ResendFakeOptions {
  apiKey?: string;
  port?: number;
  /** Requests per second per key. Default 2, Resend's default. */
  rateLimitPerSecond?: number;
  now?: () => number;
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const NAMED_ADDRESS = /^[^<>]*<([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)>$/;
const MAX_BODY_BYTES = 40 * 1024 * 1024;
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

class ResendError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ResendError(413, "validation_error", "The request body is too large."));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Checks a send request as Resend does; returns the message fields. */
function parseSend(body: unknown): Omit<SentEmail, "id" | "idempotencyKey" | "at"> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ResendError(422, "validation_error", "The body must be a JSON object.");
  }
  const fields = body as Record<string, unknown>;
  for (const name of ["from", "to", "subject"]) {
    if (fields[name] === undefined || fields[name] === "") {
      throw new ResendError(422, "missing_required_field", `The \`${name}\` field is missing.`);
    }
  }
  const from = fields.from;
  if (typeof from !== "string" || !(ADDRESS.test(from) || NAMED_ADDRESS.test(from))) {
    throw new ResendError(
      422,
      "validation_error",
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  }
  const to = typeof fields.to === "string" ? [fields.to] : fields.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > 50) {
    throw new ResendError(
      422,
      "validation_error",
      "The `to` field must be an address or an array of 1 to 50 addresses.",
    );
  }
  for (const address of to) {
    if (typeof address !== "string" || !(ADDRESS.test(address) || NAMED_ADDRESS.test(address))) {
      throw new ResendError(
        422,
        "validation_error",
        "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
      );
    }
  }
  if (typeof fields.subject !== "string")
    throw new ResendError(422, "validation_error", "The `subject` field must be a string.");
  const text = fields.text;
  const htmlBody = fields.html;
  if ((text === undefined || text === null) && (htmlBody === undefined || htmlBody === null)) {
    throw new ResendError(
      422,
      "missing_required_field",
      "Either `html`, `text` or `react` must be provided.",
    );
  }
  if ((text != null && typeof text !== "string") || (htmlBody != null && typeof htmlBody !== "string")) {
    throw new ResendError(422, "validation_error", "The `html` and `text` fields must be strings.");
  }
  return {
    from,
    to: to as string[],
    subject: fields.subject,
    text: (text as string | undefined) ?? null,
    html: (htmlBody as string | undefined) ?? null,
  };
}

export async function startResendFake(options: ResendFakeOptions = {}): Promise<ResendFake> {
  const apiKey = options.apiKey ?? `re_test_${randomUUID().replace(/-/g, "")}`;
  const now = options.now ?? Date.now;
  const perSecond = options.rateLimitPerSecond ?? 2;
  const sent: SentEmail[] = [];
  const idempotent = new Map<string, { body: string; id: string; at: number }>();
  let recent: number[] = [];
  let failures: number[] = [];

  const answer = (
    response: ServerResponse,
    status: number,
    body: object,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { "Content-Type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const path = new URL(request.url ?? "/", "http://fake").pathname;
    if (path !== "/emails") throw new ResendError(404, "not_found", "The requested endpoint does not exist.");
    if (request.method !== "POST")
      throw new ResendError(405, "method_not_allowed", "Method is not allowed for the requested path.");
    const authorization = request.headers.authorization;
    if (!authorization?.startsWith("Bearer "))
      throw new ResendError(401, "missing_api_key", "Missing API key in the authorization header.");
    if (authorization.slice(7) !== apiKey)
      throw new ResendError(403, "invalid_api_key", "API key is invalid.");
    const at = now();
    recent = recent.filter((time) => time > at - 1000);
    if (recent.length >= perSecond) {
      throw new ResendError(
        429,
        "rate_limit_exceeded",
        `Too many requests. You can only make ${perSecond} requests per second.`,
        { "Retry-After": "1", "ratelimit-limit": String(perSecond), "ratelimit-remaining": "0" },
      );
    }
    recent.push(at);
    const text = await readBody(request);
    if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
      throw new ResendError(422, "validation_error", "The body must be sent as application/json.");
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ResendError(422, "validation_error", "The body is not valid JSON.");
    }
    const message = parseSend(body);
    const failure = failures.shift();
    if (failure !== undefined)
      throw new ResendError(failure, "application_error", "An unexpected error occurred.");
    const key = request.headers["idempotency-key"];
    const idempotencyKey = typeof key === "string" ? key : null;
    if (idempotencyKey !== null) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > 256) {
        throw new ResendError(422, "invalid_idempotency_key", "The key must be between 1-256 chars.");
      }
      const earlier = idempotent.get(idempotencyKey);
      if (earlier && earlier.at > at - IDEMPOTENCY_TTL_MS) {
        if (earlier.body !== text) {
          throw new ResendError(
            409,
            "invalid_idempotent_request",
            "Same idempotency key used with a different request payload.",
          );
        }
        return answer(response, 200, { id: earlier.id });
      }
    }
    const id = randomUUID();
    sent.push({ id, ...message, idempotencyKey, at });
    if (idempotencyKey !== null) idempotent.set(idempotencyKey, { body: text, id, at });
    answer(response, 200, { id });
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof ResendError) {
        answer(
          response,
          error.status,
          { statusCode: error.status, name: error.code, message: error.message },
          error.headers,
        );
      } else {
        answer(response, 500, {
          statusCode: 500,
          name: "application_error",
          message: "An unexpected error occurred.",
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    messages: () => [...sent],
    messagesTo: (address) => sent.filter((message) => message.to.includes(address)),
    clear: () => {
      sent.length = 0;
    },
    failNext: (count, status = 500) => {
      failures = [...failures, ...Array.from({ length: count }, () => status)];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
