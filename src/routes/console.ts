/**
 * The customer console at /console: server-rendered pages and plain HTML forms (no framework, no
 * other host). Who is signed in is an opaque session id in an HttpOnly, Secure, SameSite=Lax
 * `__Host-` cookie, stored hashed (src/console/sessions.ts). Every POST is CSRF-checked twice: its
 * Origin must be this site's, and once signed in, its form token must be the session's.
 */
import { deleteCookie } from "hono/cookie";
import { createAccountKey, revokeAccountKey, rollAccountKey } from "../access/key-management";
import { emailAddress, registerAccount } from "../access/signup";
import { EmailError } from "../adapters/email";
import { createCheckoutLink, createPortalLink } from "../billing/checkout";
import { MAX_SPEND_CAP_UNITS, setSpendCap } from "../billing/spend-cap";
import {
  COPY_SCRIPT,
  checkInboxBody,
  confirmLinkBody,
  notice,
  secretBody,
  signedOutBody,
} from "../console/pages";
import {
  endSessions,
  formTokenOf,
  sendSignInLink,
  signInLinkLimit,
  startSession,
  useSignInLink,
} from "../console/sessions";
import {
  type AppFetch,
  COOKIE,
  type ConsoleContext,
  dashboard,
  formOf,
  page,
  refused,
  type Session,
  sameOrigin,
  sessionOf,
  setSessionCookie,
} from "../console/web";
import { log } from "../lib/log";
import { clientIpOf, limitByClientIp } from "../metering/client-ip-limit";
import { newRouter } from "../openapi/router";
import { Refusal } from "../refusal";

export type { AppFetch };

const DONE_MESSAGES: Record<string, string> = {
  revoked: "The key is revoked: calls with it are refused from now on.",
  "signed-out": "You are signed out.",
  "signed-out-everywhere": "Every session of this account is signed out.",
  "link-used": "That sign-in link is used or expired; ask for a new one below.",
  "cap-set":
    "The spend cap is saved: billed calls past it this month are refused (429 QUOTA_EXCEEDED), not billed.",
  "cap-removed": "The spend cap is removed.",
};

/** A domain refusal shown on the page (its detail is our own text); anything else goes to the app's handler. */
function refusalStatus(error: unknown): 400 | 403 | 409 | 429 | 503 | undefined {
  if (!(error instanceof Refusal)) return undefined;
  if (error.code === "BAD_REQUEST") return 400;
  if (error.code === "SPEND_CAP_UNAVAILABLE") return 403;
  if (error.code === "RATE_LIMITED") return 429;
  if (error.code === "DEPENDENCY_UNAVAILABLE" || error.code === "SERVICE_MISCONFIGURED") return 503;
  if (error.code.startsWith("ACCOUNT_")) return 403;
  return 409;
}

/** The form's e-mail address, trimmed and lower-cased, if it is one an account may use. */
async function addressOf(c: ConsoleContext): Promise<string | undefined> {
  const address = (await formOf(c)).email?.trim().toLowerCase() ?? "";
  return emailAddress.safeParse(address).success ? address : undefined;
}

const invalidAddress = (c: ConsoleContext) =>
  page(
    c,
    { title: "Sign up or sign in", body: signedOutBody(notice("Enter a valid e-mail address.", "error")) },
    400,
  );

export function consoleRoutes(appFetch: AppFetch) {
  /** A POST of a signed-in page: Origin and form token checked, then `action` with the session. */
  const signedInAction =
    (action: (c: ConsoleContext, session: Session, form: Record<string, string>) => Promise<Response>) =>
    async (c: ConsoleContext) => {
      if (!sameOrigin(c)) return refused(c, "This form was not sent from the console's own page.");
      const session = await sessionOf(c);
      if (!session) return c.redirect("/console", 303);
      const form = await formOf(c);
      if (form.form_token !== session.formToken)
        return refused(c, "This form has expired; reload the console and try again.");
      try {
        return await action(c, session, form);
      } catch (error) {
        const status = refusalStatus(error);
        if (!status || !(error instanceof Refusal)) throw error;
        return dashboard(c, appFetch, session, notice(error.detail, "error"), status);
      }
    };

  return newRouter()
    .get("/console", async (c) => {
      const session = await sessionOf(c);
      const done = DONE_MESSAGES[c.req.query("done") ?? ""];
      if (session) return dashboard(c, appFetch, session, done ? notice(done) : undefined);
      return page(c, { title: "Sign up or sign in", body: signedOutBody(done ? notice(done) : undefined) });
    })
    .post("/console/signup", async (c) => {
      if (!sameOrigin(c)) return refused(c, "This form was not sent from the console's own page.");
      const address = await addressOf(c);
      if (!address) return invalidAddress(c);
      try {
        const { account, apiKey } = await registerAccount(
          { services: c.get("services"), config: c.get("config") },
          {
            email: address,
            clientIp: clientIpOf(c.req.header("CF-Connecting-IP"), c.get("config").CLIENT_IPV6_PREFIX),
            requestId: c.get("requestId"),
          },
        );
        const secret = await startSession(c.get("services").db, account.id);
        setSessionCookie(c, secret);
        return page(c, {
          title: "Your first API key",
          body: secretBody({ secret: apiKey, what: "Your account is ready." }),
          script: COPY_SCRIPT,
          signedIn: true,
          formToken: await formTokenOf(secret),
        });
      } catch (error) {
        const status = refusalStatus(error);
        if (!status || !(error instanceof Refusal)) throw error;
        const detail =
          error.code === "EMAIL_TAKEN"
            ? "An account with this e-mail already exists: sign in with a link instead (it also lets you make a new key)."
            : error.detail;
        return page(c, { title: "Sign up or sign in", body: signedOutBody(notice(detail, "error")) }, status);
      }
    })
    .post("/console/sign-in", async (c) => {
      if (!sameOrigin(c)) return refused(c, "This form was not sent from the console's own page.");
      const address = await addressOf(c);
      if (!address) return invalidAddress(c);
      const consoleUrl = c.get("config").CONSOLE_URL;
      if (!consoleUrl) {
        log("error", "console sign-in refused", {
          request_id: c.get("requestId"),
          reason: "CONSOLE_URL is not set",
        });
        return page(
          c,
          { title: "Sign in", body: notice("Sign-in by e-mail is not set up on this server yet.", "error") },
          503,
        );
      }
      try {
        const config = c.get("config");
        await limitByClientIp(
          { redis: c.get("services").redis },
          signInLinkLimit(config.CONSOLE_SIGN_IN_RATE_LIMIT),
          {
            clientIp: clientIpOf(c.req.header("CF-Connecting-IP"), config.CLIENT_IPV6_PREFIX),
            requestId: c.get("requestId"),
          },
        );
        await sendSignInLink(c.get("services"), {
          address,
          consoleUrl: `${new URL(consoleUrl).origin}/console`,
        });
      } catch (error) {
        if (error instanceof EmailError) {
          log("error", "console sign-in e-mail not sent", {
            request_id: c.get("requestId"),
            status: error.status,
            reason: error.reason,
          });
          return page(
            c,
            {
              title: "Sign in",
              body: notice("The sign-in e-mail could not be sent right now; try again in a minute.", "error"),
            },
            503,
          );
        }
        const status = refusalStatus(error);
        if (!status || !(error instanceof Refusal)) throw error;
        return page(c, { title: "Sign in", body: notice(error.detail, "error") }, status);
      }
      return page(c, { title: "Check your inbox", body: checkInboxBody(address) });
    })
    .get("/console/link", async (c) => {
      const token = c.req.query("token") ?? "";
      return page(c, { title: "Sign in", body: confirmLinkBody(token) });
    })
    .post("/console/link", async (c) => {
      if (!sameOrigin(c)) return refused(c, "This form was not sent from the console's own page.");
      const accountId = await useSignInLink(c.get("services").db, (await formOf(c)).token ?? "");
      if (!accountId) return c.redirect("/console?done=link-used", 303);
      setSessionCookie(c, await startSession(c.get("services").db, accountId));
      return c.redirect("/console", 303);
    })
    .post(
      "/console/keys",
      signedInAction(async (c, session, form) => {
        const name = (form.name ?? "").trim().slice(0, 64) || "default";
        const { secret } = await createAccountKey(c.get("services"), {
          accountId: session.accountId,
          name,
          expiresAt: null,
        });
        return page(c, {
          title: "New API key",
          body: secretBody({ secret, what: `Key "${name}" created.` }),
          script: COPY_SCRIPT,
          signedIn: true,
          formToken: session.formToken,
        });
      }),
    )
    .post(
      "/console/keys/:id/roll",
      signedInAction(async (c, session) => {
        const rolled = await rollAccountKey(c.get("services"), {
          accountId: session.accountId,
          key: c.req.param("id") ?? "",
          overlapSeconds: 0,
          expiresAt: null,
        });
        return page(c, {
          title: "Key rolled",
          body: secretBody({
            secret: rolled.secret,
            what: `Key "${rolled.key.name}" rolled: the old key (${rolled.old.key_prefix}…) is refused from now on.`,
          }),
          script: COPY_SCRIPT,
          signedIn: true,
          formToken: session.formToken,
        });
      }),
    )
    .post(
      "/console/keys/:id/revoke",
      signedInAction(async (c, session) => {
        await revokeAccountKey(c.get("services"), {
          accountId: session.accountId,
          key: c.req.param("id") ?? "",
        });
        return c.redirect("/console?done=revoked", 303);
      }),
    )
    .post(
      "/console/spend-cap",
      signedInAction(async (c, session, form) => {
        const text = (form.monthly_units ?? "").trim();
        const units = form.remove === "1" ? null : Number(text);
        if (units !== null && (!/^\d+$/.test(text) || units > MAX_SPEND_CAP_UNITS)) {
          throw new Refusal("BAD_REQUEST", "Enter the cap as a whole number of units (0 or more).");
        }
        await setSpendCap(
          { ...c.get("services"), config: c.get("config") },
          { accountId: session.accountId, units },
        );
        return c.redirect(`/console?done=${units === null ? "cap-removed" : "cap-set"}`, 303);
      }),
    )
    .post(
      "/console/upgrade",
      signedInAction(async (c, session, form) => {
        const { url } = await createCheckoutLink(
          { ...c.get("services"), config: c.get("config") },
          { accountId: session.accountId, tier: form.tier ?? "" },
        );
        return c.redirect(url, 303);
      }),
    )
    .post(
      "/console/portal",
      signedInAction(async (c, session) => {
        const { url } = await createPortalLink(
          { ...c.get("services"), config: c.get("config") },
          { accountId: session.accountId },
        );
        return c.redirect(url, 303);
      }),
    )
    .post(
      "/console/sign-out",
      signedInAction(async (c, session) => {
        await endSessions(c.get("services").db, session.secret, false);
        deleteCookie(c, COOKIE, { prefix: "host", path: "/", secure: true });
        return c.redirect("/console?done=signed-out", 303);
      }),
    )
    .post(
      "/console/sign-out-everywhere",
      signedInAction(async (c, session) => {
        await endSessions(c.get("services").db, session.secret, true);
        deleteCookie(c, COOKIE, { prefix: "host", path: "/", secure: true });
        return c.redirect("/console?done=signed-out-everywhere", 303);
      }),
    );
}
