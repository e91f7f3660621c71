/**
 * The console's pages: server-rendered HTML (hono/html escapes every interpolated value), one
 * small stylesheet and, on the page that shows a new key, a few lines of script for the copy
 * button, both allowed by a per-response nonce (see CONSOLE_CSP in src/routes/console.ts). Every
 * form works without script; every control has a label; colours pass WCAG AA contrast.
 */
import { html, raw } from "hono/html";
import type { AccountKey } from "../access/key-management";

type Html = ReturnType<typeof html>;

const STYLE = `
:root{color-scheme:light;font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff}
body{max-width:52rem;margin:0 auto;padding:1rem 1.25rem 3rem}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ccc;margin-bottom:1rem;flex-wrap:wrap;gap:.5rem}
h1{font-size:1.35rem;margin:.5rem 0}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
a{color:#0645ad}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
input[type=email],input[type=text],input[type=number]{font:inherit;padding:.4rem .5rem;border:1px solid #595959;border-radius:4px;width:min(100%,22rem)}
button{font:inherit;padding:.4rem .9rem;border:1px solid #1d3f91;border-radius:4px;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d3f91}
button.danger{background:#fff;color:#a4161a;border-color:#a4161a}
:focus-visible{outline:3px solid #b45309;outline-offset:2px}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid #ddd;vertical-align:top}
td form{display:inline}
.notice{padding:.6rem .8rem;border-left:4px solid #1d4ed8;background:#eef2ff}
.error{border-left-color:#a4161a;background:#fdecec}
code.secret{display:block;padding:.6rem;background:#f3f3f3;border:1px solid #999;word-break:break-all;font-size:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.bars{display:flex;align-items:flex-end;gap:2px;height:6rem;border-bottom:1px solid #595959}
.bars span{background:#1d4ed8;flex:1;max-width:14px}
.grid{display:flex;gap:2rem;flex-wrap:wrap}
`;

export function layout(
  {
    title,
    nonce,
    signedIn,
    formToken,
  }: { title: string; nonce: string; signedIn?: boolean; formToken?: string },
  body: Html,
  script?: string,
): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Schema Meter console</title>
<style nonce="${nonce}">${raw(STYLE)}</style>
</head>
<body>
<header>
<p><strong>Schema Meter</strong> console</p>
<nav aria-label="Console">
<a href="/docs">API reference</a>
${
  signedIn && formToken
    ? html` · <form method="post" action="/console/sign-out" style="display:inline"><input type="hidden" name="form_token" value="${formToken}"><button class="secondary" type="submit">Sign out</button></form>`
    : ""
}
</nav>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
${script ? html`<script nonce="${nonce}">${raw(script)}</script>` : ""}
</body>
</html>`;
}

export const notice = (text: string, kind: "info" | "error" = "info") =>
  html`<p class="notice${kind === "error" ? " error" : ""}" role="${kind === "error" ? "alert" : "status"}">${text}</p>`;

export function signedOutBody(message?: Html): Html {
  return html`${message ?? ""}
<div class="grid">
<section aria-labelledby="signup-h">
<h2 id="signup-h">New here? Sign up</h2>
<form method="post" action="/console/signup">
<label for="signup-email">E-mail</label>
<input id="signup-email" name="email" type="email" autocomplete="email" required maxlength="254">
<p><button type="submit">Create account</button></p>
</form>
<p>Free tier: no card needed. Your first API key is shown once.</p>
</section>
<section aria-labelledby="signin-h">
<h2 id="signin-h">Have an account? Sign in</h2>
<form method="post" action="/console/sign-in">
<label for="signin-email">E-mail</label>
<input id="signin-email" name="email" type="email" autocomplete="email" required maxlength="254">
<p><button type="submit">E-mail me a sign-in link</button></p>
</form>
<p>Lost your API key? Sign in with the link, then create a new key.</p>
</section>
</div>`;
}

/** A new key's secret, once, with a copy button (the script only copies; the key is on the page). */
export function secretBody({ secret, what }: { secret: string; what: string }): Html {
  return html`${notice(`${what} Copy the key now: it is shown this once and never stored.`)}
<p><label for="secret">Your API key</label></p>
<code class="secret" id="secret">${secret}</code>
<p><button type="button" id="copy" hidden>Copy key</button> <span id="copied" role="status" aria-live="polite"></span></p>
<p>Call the API with it: <code>curl -H "Authorization: Bearer $KEY" …/v1/validate</code>.</p>
<p><a href="/console">Continue to the console</a></p>`;
}

export const COPY_SCRIPT = `(function(){var b=document.getElementById("copy"),s=document.getElementById("copied"),k=document.getElementById("secret");if(!navigator.clipboard){return}b.hidden=false;b.addEventListener("click",function(){navigator.clipboard.writeText(k.textContent).then(function(){s.textContent="Copied."},function(){s.textContent="Copy failed: select the key and copy it by hand."})})})();`;

export const checkInboxBody = (address: string) =>
  notice(
    `If an account uses ${address}, a sign-in link is on its way. It works once, for 15 minutes. Nothing arrived? Check the address and the spam folder, then ask again.`,
  );

/** The link's landing page: a button, so that a mail scanner fetching the link does not use it up. */
export const confirmLinkBody = (token: string) =>
  html`<form method="post" action="/console/link">
<input type="hidden" name="token" value="${token}">
<p>Sign in to the Schema Meter console in this browser.</p>
<p><button type="submit">Sign in</button></p>
</form>`;

export interface UsageView {
  /** What GET /v1/account answers, as is (fields added later are shown too). */
  account: Record<string, unknown>;
  /** Units per UTC day, oldest first; days without usage left out (see daysSource). */
  days: { day: string; units: number }[];
  /** ledger: billed units, for an account with a Stripe customer; counters: units counted at admission. */
  daysSource: "ledger" | "counters";
  /** The chart's first day (YYYY-MM-DD, UTC): one bar per day from it to today. */
  chartFrom: string;
  /** The estimated charge this period, if the tier's Stripe price says how much a unit costs. */
  estimate?: string;
  /** A paying account may set a spend cap (the form is shown); the cap's price, if known. */
  spendCap?: { allowed: boolean; estimate?: string };
}

const KNOWN_ACCOUNT_FIELDS = new Set([
  "id",
  "email",
  "tier",
  "status",
  "grace_until",
  "stripe_customer_id",
  "created_at",
  "rate_limit",
  "usage",
]);

const describe = (value: unknown): string =>
  value === null || value === undefined
    ? "—"
    : typeof value === "object"
      ? Object.entries(value as Record<string, unknown>)
          .map(
            ([name, inner]) =>
              `${name.replace(/_/g, " ")}: ${typeof inner === "object" && inner !== null ? JSON.stringify(inner) : String(inner)}`,
          )
          .join(", ")
      : String(value);

/** Every UTC day from `from` to today, with its units (0 where the ledger has none). */
function chartDays(from: string, days: UsageView["days"]): UsageView["days"] {
  const units = new Map(days.map((day) => [day.day, day.units]));
  const slots: UsageView["days"] = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let time = Date.parse(`${from}T00:00:00Z`); ; time += 86_400_000) {
    const day = new Date(time).toISOString().slice(0, 10);
    slots.push({ day, units: units.get(day) ?? 0 });
    if (day >= today || slots.length > 100) break;
  }
  return slots;
}

const when = (iso: string | null) => (iso === null ? "never" : `${iso.slice(0, 16).replace("T", " ")} UTC`);

const count = (units: number | null | undefined, none: string) =>
  units === null || units === undefined ? none : units.toLocaleString("en-US");

/** The month's allowance (quota or cap, used, remaining) and, for a paying account, the cap's form. */
function allowanceRows(usage: MonthlyUsage, spendCap: UsageView["spendCap"]): Html {
  return html`<dt>Monthly quota</dt><dd id="quota">${count(usage.monthly_quota, "none")}</dd>
<dt>Spend cap</dt><dd id="spend-cap">${count(usage.spend_cap, "none")}${spendCap?.estimate ? ` — at most ${spendCap.estimate} a month` : ""}</dd>
<dt>Remaining this month</dt><dd id="remaining">${usage.limit === null || usage.limit === undefined ? "unlimited" : count(usage.remaining, "unavailable right now")}${usage.resets_at ? ` (resets ${when(usage.resets_at)})` : ""}</dd>`;
}

function spendCapForm(usage: MonthlyUsage, formToken: string): Html {
  return html`<form method="post" action="/console/spend-cap">
<input type="hidden" name="form_token" value="${formToken}">
<label for="cap-units">Monthly spend cap (units; calls past it are refused, not billed)</label>
<input id="cap-units" name="monthly_units" type="number" min="0" step="1" inputmode="numeric" required value="${usage.spend_cap ?? ""}">
<button type="submit">Save cap</button>
</form>
${
  usage.spend_cap === null || usage.spend_cap === undefined
    ? ""
    : html`<form method="post" action="/console/spend-cap"><input type="hidden" name="form_token" value="${formToken}"><input type="hidden" name="remove" value="1"><p><button class="secondary" type="submit">Remove cap</button></p></form>`
}`;
}

interface MonthlyUsage {
  period?: string;
  units?: number | null;
  monthly_quota?: number | null;
  spend_cap?: number | null;
  limit?: number | null;
  remaining?: number | null;
  resets_at?: string;
}

function usageSection(
  { account, days, daysSource, estimate, chartFrom, spendCap }: UsageView,
  formToken: string,
): Html {
  const usage = (account.usage ?? {}) as MonthlyUsage;
  const perDay = daysSource === "ledger" ? "Billed units per day" : "Units per day";
  const rate = (account.rate_limit ?? {}) as { limit?: number; window_seconds?: number };
  const extra = Object.entries(account).filter(([name]) => !KNOWN_ACCOUNT_FIELDS.has(name));
  const peak = Math.max(1, ...days.map((day) => day.units));
  return html`<section aria-labelledby="usage-h">
<h2 id="usage-h">Usage</h2>
<dl>
<dt>Tier</dt><dd id="tier">${String(account.tier ?? "—")}</dd>
<dt>Status</dt><dd>${String(account.status ?? "—")}</dd>
<dt>Units this month (${usage.period ?? "—"})</dt><dd id="units">${usage.units === null || usage.units === undefined ? "unavailable right now" : usage.units.toLocaleString("en-US")}</dd>
${estimate ? html`<dt>Estimated charge</dt><dd id="estimate">${estimate}</dd>` : ""}
${allowanceRows(usage, spendCap)}
<dt>Rate limit</dt><dd>${rate.limit ?? "—"} units per ${rate.window_seconds ?? "—"} s</dd>
${extra.map(([name, value]) => html`<dt>${name.replace(/_/g, " ")}</dt><dd>${describe(value)}</dd>`)}
</dl>
${spendCap?.allowed ? spendCapForm(usage, formToken) : ""}
${
  days.length > 0
    ? html`<h3>${perDay} (UTC), last month and this month</h3>
<div class="bars" role="img" aria-label="${perDay}">${chartDays(chartFrom, days).map((day) => html`<span style="height:${day.units === 0 ? 0 : Math.max(2, Math.round((day.units / peak) * 100))}%" title="${day.day}: ${day.units}"></span>`)}</div>
<table><caption>${perDay}</caption><thead><tr><th scope="col">Day</th><th scope="col">Units</th></tr></thead><tbody>${days.map((day) => html`<tr><td>${day.day}</td><td>${day.units}</td></tr>`)}</tbody></table>`
    : html`<p>No usage in these two months yet.</p>`
}
<p>${
    daysSource === "ledger"
      ? "Per day: the billing ledger, what Stripe bills (a few minutes behind)."
      : "Per day: units of calls answered 2xx, counted as they are admitted."
  }</p>
</section>`;
}

function keysSection(keys: AccountKey[], formToken: string): Html {
  const active = (key: AccountKey) =>
    key.revoked_at === null && (key.expires_at === null || Date.parse(key.expires_at) > Date.now());
  return html`<section aria-labelledby="keys-h">
<h2 id="keys-h">API keys</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
<tbody>
${keys.filter(active).map(
  (key) => html`<tr data-key="${key.key_prefix}">
<td>${key.name}</td><td><code>${key.key_prefix}…</code></td><td>${when(key.created_at)}</td><td>${when(key.last_used_at)}</td>
<td><form method="post" action="/console/keys/${key.key_id}/roll"><input type="hidden" name="form_token" value="${formToken}"><button class="secondary" type="submit" aria-label="Roll key ${key.name} (${key.key_prefix})">Roll</button></form>
<form method="post" action="/console/keys/${key.key_id}/revoke"><input type="hidden" name="form_token" value="${formToken}"><button class="danger" type="submit" aria-label="Revoke key ${key.name} (${key.key_prefix})">Revoke</button></form></td>
</tr>`,
)}
</tbody>
</table>
<form method="post" action="/console/keys">
<input type="hidden" name="form_token" value="${formToken}">
<label for="key-name">New key name</label>
<input id="key-name" name="name" type="text" maxlength="64" required value="default">
<button type="submit">Create key</button>
</form>
<p>Last used is accurate to about an hour. Revoked and expired keys are not listed.</p>
</section>`;
}

function billingSection(account: Record<string, unknown>, formToken: string, upgradeTier?: string): Html {
  return html`<section aria-labelledby="billing-h">
<h2 id="billing-h">Plan</h2>
${
  upgradeTier && account.tier !== upgradeTier
    ? html`<form method="post" action="/console/upgrade"><input type="hidden" name="form_token" value="${formToken}"><input type="hidden" name="tier" value="${upgradeTier}"><button type="submit">Upgrade to ${upgradeTier}</button></form>`
    : ""
}
${
  account.stripe_customer_id
    ? html`<form method="post" action="/console/portal"><input type="hidden" name="form_token" value="${formToken}"><p><button class="secondary" type="submit">Manage billing (invoices, card, cancel)</button></p></form>`
    : ""
}
</section>`;
}

export function dashboardBody({
  usage,
  keys,
  formToken,
  upgradeTier,
  message,
}: {
  usage: UsageView;
  keys: AccountKey[];
  formToken: string;
  upgradeTier?: string;
  message?: Html;
}): Html {
  return html`${message ?? ""}
<p>Signed in as <strong>${String(usage.account.email ?? "")}</strong>.</p>
${usageSection(usage, formToken)}
${billingSection(usage.account, formToken, upgradeTier)}
${keysSection(keys, formToken)}
<section aria-labelledby="sessions-h">
<h2 id="sessions-h">Sessions</h2>
<form method="post" action="/console/sign-out-everywhere"><input type="hidden" name="form_token" value="${formToken}"><button class="danger" type="submit">Sign out everywhere</button></form>
</section>`;
}
