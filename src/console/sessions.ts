/**
 * The console's way in: one-time sign-in links sent by e-mail, and browser sessions. Both are
 * random 256-bit secrets handed to the customer once (in the e-mail, in the cookie) and stored
 * only as their SHA-256 (migrations/0013_console.sql), so a database leak signs no one in.
 */
import { z } from "zod";
import type { EmailSender } from "../adapters/email";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { RateLimitWindow } from "../config";
import { sha256Hex } from "../lib/sha256";
import type { ClientIpLimit } from "../metering/client-ip-limit";
import { Refusal } from "../refusal";

/** How long a sign-in link works: 15 minutes, once. */
export const SIGN_IN_LINK_TTL_SECONDS = 15 * 60;
/** How long a console session lasts: 7 days (sign out ends it sooner). */
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;

/** Sign-in e-mails per client IP (CONSOLE_SIGN_IN_RATE_LIMIT): waiting costs nothing, so refused while Redis is unreachable. */
export const signInLinkLimit = (window: RateLimitWindow): ClientIpLimit => ({
  policy: "console-sign-in",
  route: "POST /console/sign-in",
  counted: "sign-in e-mails",
  ...window,
  whenUnavailable: "refuse",
});

/** 32 random bytes, base64url (43 characters). */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** What a cookie or link token must look like before it is hashed and looked up. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const linkCreated = z.union([
  z.object({ account_id: z.string(), email: z.string() }),
  z.object({ refused: z.literal("TOO_MANY_LINKS") }),
]);
const sessionAccount = z.object({ account_id: z.string() });

/**
 * E-mails a one-time sign-in link to the account with this address, if there is one. Says nothing
 * about whether there was (the form's answer is the same), except when the account already has
 * five live links (429). `consoleUrl` is configuration (CONSOLE_URL), never the request's Host.
 */
export async function sendSignInLink(
  { db, email }: { db: DatabaseAdapter; email: EmailSender },
  { address, consoleUrl }: { address: string; consoleUrl: string },
): Promise<void> {
  const token = randomSecret();
  const reply = await db.rpc<unknown>("console_create_sign_in_link", {
    p_email: address,
    p_token_hash: await sha256Hex(token),
    p_ttl_seconds: SIGN_IN_LINK_TTL_SECONDS,
  });
  if (reply === null) return;
  const created = linkCreated.parse(reply);
  if ("refused" in created) {
    throw new Refusal(
      "RATE_LIMITED",
      "Several sign-in links were sent to this address in the last 15 minutes; use the newest one, or wait for them to expire.",
      { retryAfterSeconds: SIGN_IN_LINK_TTL_SECONDS },
    );
  }
  const link = `${consoleUrl.replace(/\/+$/, "")}/link?token=${token}`;
  await email.send({
    to: created.email,
    subject: "Your Schema Meter sign-in link",
    text: [
      "Open this link to sign in to the Schema Meter console (it works once, for 15 minutes):",
      "",
      link,
      "",
      "From the console you can create a new API key if you lost yours.",
      "If you did not ask for this, ignore this e-mail: nothing changes.",
    ].join("\n"),
    // One message per link: a retried send of the same link is not sent twice.
    idempotencyKey: `console-sign-in/${(await sha256Hex(`idem:${token}`)).slice(0, 32)}`,
  });
}

/** Uses a sign-in link (once): the account it signs in, or undefined if unknown, used or expired. */
export async function useSignInLink(db: DatabaseAdapter, token: string): Promise<string | undefined> {
  if (!SECRET_PATTERN.test(token)) return undefined;
  const reply = await db.rpc<unknown>("console_use_sign_in_link", { p_token_hash: await sha256Hex(token) });
  return reply === null ? undefined : sessionAccount.parse(reply).account_id;
}

/** A new session for the account; the secret goes into the cookie, once. */
export async function startSession(db: DatabaseAdapter, accountId: string): Promise<string> {
  const secret = randomSecret();
  await db.rpc("console_start_session", {
    p_account_id: accountId,
    p_session_hash: await sha256Hex(secret),
    p_ttl_seconds: SESSION_TTL_SECONDS,
  });
  return secret;
}

/** The account a session cookie signs in, or undefined (unknown, ended or expired). */
export async function resolveSession(db: DatabaseAdapter, secret: string): Promise<string | undefined> {
  if (!SECRET_PATTERN.test(secret)) return undefined;
  const reply = await db.rpc<unknown>("console_resolve_session", { p_session_hash: await sha256Hex(secret) });
  return reply === null ? undefined : sessionAccount.parse(reply).account_id;
}

/** Ends this session, or (everywhere) every session of its account. */
export async function endSessions(db: DatabaseAdapter, secret: string, everywhere: boolean): Promise<number> {
  if (!SECRET_PATTERN.test(secret)) return 0;
  return z.number().parse(
    await db.rpc<unknown>("console_end_sessions", {
      p_session_hash: await sha256Hex(secret),
      p_everywhere: everywhere,
    }),
  );
}

/**
 * The form token of a session: derived from its secret, so only a page that could read the
 * HttpOnly cookie's value (our own server) can put it in a form. Checked beside the Origin header.
 */
export async function formTokenOf(sessionSecret: string): Promise<string> {
  return (await sha256Hex(`console-form:${sessionSecret}`)).slice(0, 32);
}
