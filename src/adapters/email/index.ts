/**
 * Outgoing e-mail (console sign-in links, dunning e-mails): one interface, and Resend's
 * HTTP API behind it (`POST /emails`, bearer key, JSON; no SDK: one fetch with a timeout is all it
 * takes, and it runs unchanged in Workers). Tests and `npm run dev` point RESEND_API_BASE at the
 * fake in test/support/resend-fake.ts, which records what would have been sent.
 */
import { TimeoutError, withTimeout } from "../../lib/timeout";

/** One message. `text` is required (every client can show it); `html` is optional. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Sent as Resend's `Idempotency-Key`: a retry with the same key sends nothing twice. */
  idempotencyKey?: string;
}

export interface EmailSender {
  /** Sends one message; returns the provider's id. Throws EmailError on refusal, timeout or outage. */
  send(message: EmailMessage): Promise<{ id: string }>;
}

/** A send that failed: the provider's HTTP status (0: no answer) and its error name, never the body sent. */
export class EmailError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`e-mail not sent (HTTP ${status}): ${reason}`);
    this.name = "EmailError";
  }
}

export interface ResendOptions {
  apiKey: string;
  /** Sender, `Name <address>` on a domain verified in Resend. */
  from: string;
  /** Default Resend's own, https://api.resend.com. */
  apiBase?: string;
  timeoutMs: number;
}

export const RESEND_API_BASE = "https://api.resend.com";
/** The longest a send waits before its one retry after a 429. */
const RATE_LIMIT_RETRY_MAX_SECONDS = 1;

export function createResendSender({
  apiKey,
  from,
  apiBase = RESEND_API_BASE,
  timeoutMs,
}: ResendOptions): EmailSender {
  const endpoint = new URL("/emails", apiBase).toString();
  return {
    async send({ to, subject, text, html, idempotencyKey }) {
      const body = JSON.stringify({ from, to: [to], subject, text, ...(html && { html }) });
      const attempt = async () => {
        try {
          return await withTimeout("resend send", timeoutMs, (signal) =>
            fetch(endpoint, {
              method: "POST",
              signal,
              headers: {
                Authorization: `Bearer ${apiKey}`,
                "Content-Type": "application/json",
                ...(idempotencyKey && { "Idempotency-Key": idempotencyKey }),
              },
              body,
            }),
          );
        } catch (error) {
          throw new EmailError(0, error instanceof TimeoutError ? "timeout" : "unreachable");
        }
      };
      let response = await attempt();
      // Resend allows 2 requests per second per team by default: one paced retry (the same
      // Idempotency-Key, so nothing is sent twice), then the caller is told to try again.
      if (response.status === 429) {
        await response.body?.cancel();
        const wait = Math.min(Number(response.headers.get("Retry-After")) || 1, RATE_LIMIT_RETRY_MAX_SECONDS);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        response = await attempt();
      }
      const answer = (await response.json().catch(() => ({}))) as { id?: unknown; name?: unknown };
      if (!response.ok || typeof answer.id !== "string") {
        throw new EmailError(
          response.status,
          typeof answer.name === "string" ? answer.name : "unexpected answer",
        );
      }
      return { id: answer.id };
    },
  };
}

/** Used when RESEND_API_KEY is not set: every send fails, so a sign-in form says e-mail is not set up. */
export const unconfiguredEmailSender: EmailSender = {
  async send() {
    throw new EmailError(0, "RESEND_API_KEY is not set");
  },
};
