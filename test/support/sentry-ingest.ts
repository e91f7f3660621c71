/**
 * A local stand-in for Sentry's ingest endpoint: accepts envelopes at `/api/<project>/envelope/`
 * (what the SDKs post to for a DSN `http://<key>@host:port/<project>`), keeps each raw text and
 * its parsed items, answers 200 like Sentry. Test tooling only.
 */
import { createServer, type Server } from "node:http";
import { gunzipSync } from "node:zlib";
import { freePort } from "./ports";

export interface EnvelopeItem {
  type: string;
  payload: Record<string, unknown>;
}

export interface Envelope {
  /** The whole envelope as sent (after any content encoding), for "never contains" assertions. */
  raw: string;
  header: Record<string, unknown>;
  items: EnvelopeItem[];
}

export interface SentryIngest {
  /** The DSN that points an SDK at this server. */
  dsn: string;
  envelopes: Envelope[];
  /** Every item of the given type received so far (`event`, `check_in`, ...). */
  items(type: string): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Envelope format: a JSON header line, then per item a JSON item header line and its payload. */
export function parseEnvelope(raw: string): Envelope {
  const lines = raw.split("\n");
  const header = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  for (let index = 1; index + 1 < lines.length; index += 2) {
    const itemHeader = JSON.parse(lines[index] ?? "{}") as { type: string };
    const text = lines[index + 1] ?? "";
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(text) as Record<string, unknown>;
    } catch {
      payload = { text };
    }
    items.push({ type: itemHeader.type, payload });
  }
  return { raw, header, items };
}

export async function startSentryIngest(): Promise<SentryIngest> {
  const port = await freePort();
  const envelopes: Envelope[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let body = Buffer.concat(chunks);
      if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      if (request.method === "POST" && /^\/api\/\d+\/envelope\/?/.test(request.url ?? "")) {
        envelopes.push(parseEnvelope(body.toString("utf8")));
        response.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      } else {
        response.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    dsn: `http://public@127.0.0.1:${port}/1`,
    envelopes,
    items: (type) =>
      envelopes.flatMap((envelope) =>
        envelope.items.filter((item) => item.type === type).map((item) => item.payload),
      ),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
