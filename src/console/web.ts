/**
 * The console's web plumbing: page rendering with its CSP and nonce, the CSRF checks (Origin, form
 * token), the session cookie, and the signed-in page (GET /v1/account as the API answers it, the
 * keys, per-day usage, the estimate). Routes are in src/routes/console.ts.
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { getAccount } from "../access/accounts";
import { listAccountKeys } from "../access/key-management";
import { tokenKeysOf } from "../access/token-service";
import { issueAccessToken } from "../access/tokens";
import { purchasableTiers } from "../billing/checkout";
import { isPayingAccount } from "../billing/spend-cap";
import { accountUsage, monthStartOf, usageSourceOf } from "../billing/usage-history";
import type { AppBindings } from "../env";
import { executionContextOf } from "../lib/after-response";
import { estimateCharge } from "./estimate";
import { dashboardBody, layout, notice, type UsageView } from "./pages";
import { formTokenOf, resolveSession, SESSION_TTL_SECONDS } from "./sessions";

/** Calls the app itself (GET /v1/account), so the console shows exactly what the API answers. */
export type AppFetch = (
  request: Request,
  env: AppBindings["Bindings"],
  ctx?: ExecutionContext,
) => Promise<Response>;

export type ConsoleContext = Context<AppBindings>;

export const COOKIE = "sm_console";
const NONCE_BYTES = 16;

const nonceOf = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(NONCE_BYTES))));

/**
 * The console's CSP: nothing from any other host; its one style block and copy script by nonce;
 * forms post to this origin, or (the upgrade and billing buttons) are redirected to Stripe's pages.
 */
function consoleCsp(c: ConsoleContext, nonce: string): string {
  const stripeBase = c.get("config").STRIPE_API_BASE;
  const stripe = stripeBase
    ? new URL(stripeBase).origin
    : "https://checkout.stripe.com https://billing.stripe.com";
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    `script-src 'nonce-${nonce}'`,
    "img-src 'self'",
    `form-action 'self' ${stripe}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function page(
  c: ConsoleContext,
  parts: {
    title: string;
    body: ReturnType<typeof html>;
    script?: string;
    signedIn?: boolean;
    formToken?: string;
  },
  status: 200 | 400 | 403 | 404 | 409 | 429 | 503 = 200,
) {
  const nonce = nonceOf();
  c.header("Content-Security-Policy", consoleCsp(c, nonce));
  c.header("Cache-Control", "no-store");
  // Not the app's no-referrer: with it, Chrome sends `Origin: null` on the console's own form
  // posts, and the Origin check could not tell them from a forged one. Other hosts get nothing.
  c.header("Referrer-Policy", "same-origin");
  return c.html(layout({ ...parts, nonce }, parts.body, parts.script), status);
}

/** CSRF, first check: a POST must come from a page of this origin (browsers send Origin on every POST). */
export function sameOrigin(c: ConsoleContext): boolean {
  const origin = c.req.header("Origin");
  if (!origin) return false;
  const allowed = new Set([new URL(c.req.url).origin]);
  const consoleUrl = c.get("config").CONSOLE_URL;
  if (consoleUrl) allowed.add(new URL(consoleUrl).origin);
  return allowed.has(origin);
}

export async function formOf(c: ConsoleContext): Promise<Record<string, string>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data"))
    return {};
  const body = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

export const refused = (c: ConsoleContext, message: string, status: 400 | 403 = 403) =>
  page(
    c,
    {
      title: "Request refused",
      body: html`${notice(message, "error")}<p><a href="/console">Back to the console</a></p>`,
    },
    status,
  );

export interface Session {
  secret: string;
  accountId: string;
  formToken: string;
}

export async function sessionOf(c: ConsoleContext): Promise<Session | undefined> {
  const secret = getCookie(c, COOKIE, "host");
  if (!secret) return undefined;
  const accountId = await resolveSession(c.get("services").db, secret);
  return accountId ? { secret, accountId, formToken: await formTokenOf(secret) } : undefined;
}

export function setSessionCookie(c: ConsoleContext, secret: string) {
  setCookie(c, COOKIE, secret, {
    prefix: "host",
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: SESSION_TTL_SECONDS,
  });
}

/** What GET /v1/account answers for this account, with a one-minute token minted for the call. */
async function accountView(
  c: ConsoleContext,
  appFetch: AppFetch,
  accountId: string,
): Promise<Record<string, unknown>> {
  const account = await getAccount(c.get("services").db, accountId);
  if (!account) return {};
  const keys = await tokenKeysOf(c.get("config"));
  const { token } = await issueAccessToken(
    keys,
    { accountId, tier: account.tier, stripeCustomerId: account.stripe_customer_id, apiKeyId: null },
    { ttlSeconds: 60 },
  );
  const request = new Request(new URL("/v1/account", c.req.url), {
    headers: { Authorization: `Bearer ${token}`, "X-Request-Id": c.get("requestId") },
  });
  const response = await appFetch(request, c.env, executionContextOf(c));
  if (response.ok) return (await response.json()) as Record<string, unknown>;
  // Rate limited or an outage: the page still shows the account, without live figures.
  return { ...account, usage: { period: new Date().toISOString().slice(0, 7), units: null } };
}

export async function dashboard(
  c: ConsoleContext,
  appFetch: AppFetch,
  session: Session,
  message?: ReturnType<typeof html>,
  status: 200 | 400 | 403 | 409 | 429 | 503 = 200,
) {
  const { db } = c.get("services");
  const config = c.get("config");
  const now = new Date();
  const chartFrom = monthStartOf(new Date(monthStartOf(now).getTime() - 1));
  const [account, keys] = await Promise.all([
    accountView(c, appFetch, session.accountId),
    listAccountKeys(db, session.accountId),
  ]);
  // This billing period and the one before it (UTC months), as the chart shows them, from the
  // source GET /v1/usage uses for this account; an outage leaves the chart out, not the page.
  const stripeCustomerId = typeof account.stripe_customer_id === "string" ? account.stripe_customer_id : null;
  const daily = await accountUsage(c.get("services"), {
    accountId: session.accountId,
    stripeCustomerId,
    from: chartFrom,
    to: now,
    granularity: "day",
  }).catch(() => ({ source: usageSourceOf(stripeCustomerId), buckets: [] }));
  const days = daily.buckets;
  const stripe = { stripe: c.get("services").stripe, config };
  const cap = (account.usage as { spend_cap?: unknown } | undefined)?.spend_cap;
  const paying =
    typeof account.tier === "string" &&
    isPayingAccount(config, {
      tier: account.tier,
      stripe_customer_id: stripeCustomerId,
    });
  const [estimate, capEstimate] = await Promise.all([
    estimateCharge(stripe, account),
    // The cap in money, at the same price: a spend cap is kept in units, the unit the price charges.
    typeof cap === "number"
      ? estimateCharge(stripe, { tier: account.tier, usage: { units: cap } })
      : undefined,
  ]);
  const usage: UsageView = {
    account,
    days: days.map((bucket) => ({ day: bucket.start.slice(0, 10), units: bucket.units })),
    daysSource: daily.source,
    chartFrom: chartFrom.toISOString().slice(0, 10),
    estimate,
    spendCap: { allowed: paying, estimate: capEstimate },
  };
  const upgradeTier = purchasableTiers(config).find((tier) => tier !== account.tier);
  return page(
    c,
    {
      title: "Your account",
      body: dashboardBody({ usage, keys, formToken: session.formToken, upgradeTier, message }),
      signedIn: true,
      formToken: session.formToken,
    },
    status,
  );
}
