/**
 * The console's security rules through HTTP (the app in Node, real Redis and Postgres, the fake
 * Resend): the session cookie's attributes and that only its hash is stored; CSRF refusals (another
 * Origin, none, a wrong form token) change nothing; sign-in links are single-use, short-lived,
 * stored hashed, and say nothing about who has an account; sign-out everywhere ends every session;
 * a Resend failure is a clear 503 with nothing secret logged.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AccessHarness, startAccessHarness } from "../harness/access";

const ORIGIN = "http://api.test";
let harness: AccessHarness;

beforeAll(async () => {
  harness = await startAccessHarness({
    env: {
      CONSOLE_URL: ORIGIN,
      SIGNUP_RATE_LIMIT: '{"limit":100,"windowSeconds":3600}',
      CONSOLE_SIGN_IN_RATE_LIMIT: '{"limit":100,"windowSeconds":3600}',
    },
  });
});

afterAll(async () => {
  await harness?.stop();
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function post(
  path: string,
  form: Record<string, string>,
  { cookie, origin = ORIGIN, ip }: { cookie?: string; origin?: string | null; ip?: string } = {},
) {
  return harness.request(path, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...(origin !== null && { Origin: origin }),
      ...(cookie && { Cookie: cookie }),
      ...(ip && { "CF-Connecting-IP": ip }),
    },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
}

const sessionCookieOf = (response: Response) => {
  const header = response.headers.get("Set-Cookie") ?? "";
  return { header, value: /__Host-sm_console=([^;]+)/.exec(header)?.[1] ?? "" };
};

const formTokenIn = (page: string) => /name="form_token" value="([0-9a-f]{32})"/.exec(page)?.[1] ?? "";

async function signUp(email: string) {
  const response = await post("/console/signup", { email });
  expect(response.status, await response.clone().text()).toBe(200);
  const page = await response.text();
  const { header, value } = sessionCookieOf(response);
  return { page, header, value, cookie: `__Host-sm_console=${value}`, formToken: formTokenIn(page) };
}

async function keyCount(email: string) {
  const { rows } = await harness.sql.query(
    "select count(*)::int as n from api_keys k join accounts a on a.id = k.account_id where a.email = $1",
    [email],
  );
  return rows[0].n as number;
}

describe("console sessions and CSRF", () => {
  it("sets a __Host- HttpOnly Secure SameSite=Lax cookie whose value is stored only as its hash", async () => {
    const { header, value, page } = await signUp("console-cookie@example.com");
    expect(header).toMatch(
      /^__Host-sm_console=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(page).toMatch(/<code class="secret" id="secret">sm_/);
    const { rows } = await harness.sql.query("select session_hash from console_sessions");
    const hashes = rows.map((row) => row.session_hash as string);
    expect(hashes).toContain(sha256(value));
    expect(hashes).not.toContain(value);
  });

  it("refuses a form post from another origin, with no Origin, or with a wrong form token; changes nothing", async () => {
    const email = "console-csrf@example.com";
    const { cookie, formToken } = await signUp(email);
    expect(formToken).toMatch(/^[0-9a-f]{32}$/);
    const before = await keyCount(email);
    expect(
      (
        await post(
          "/console/keys",
          { name: "x", form_token: formToken },
          { cookie, origin: "https://evil.test" },
        )
      ).status,
    ).toBe(403);
    expect(
      (await post("/console/keys", { name: "x", form_token: formToken }, { cookie, origin: null })).status,
    ).toBe(403);
    expect((await post("/console/keys", { name: "x", form_token: "0".repeat(32) }, { cookie })).status).toBe(
      403,
    );
    expect((await post("/console/keys", { name: "x" }, { cookie })).status).toBe(403);
    expect(await keyCount(email)).toBe(before);
    const created = await post("/console/keys", { name: "x", form_token: formToken }, { cookie });
    expect(created.status).toBe(200);
    expect(await keyCount(email)).toBe(before + 1);
    // Sign-up from another origin is refused too (no account made).
    expect(
      (
        await post(
          "/console/signup",
          { email: "console-forged@example.com" },
          { origin: "https://evil.test" },
        )
      ).status,
    ).toBe(403);
    expect(await keyCount("console-forged@example.com")).toBe(0);
  });

  it("the spend cap form: CSRF-checked, refused (403, said on the page) for free, set and removed for a paying account", async () => {
    const email = "console-cap@example.com";
    const { cookie, formToken } = await signUp(email);
    const capOf = async () =>
      (await harness.sql.query("select spend_cap_units from accounts where email = $1", [email])).rows[0]
        .spend_cap_units as string | null;
    const free = await post("/console/spend-cap", { monthly_units: "10", form_token: formToken }, { cookie });
    expect(free.status).toBe(403);
    expect(await free.text()).toMatch(/A spend cap is for paying accounts/);
    expect(
      await harness.request("/console", { headers: { Cookie: cookie } }).then((r) => r.text()),
    ).not.toMatch(/Monthly spend cap/);
    await harness.sql.query(
      "update accounts set tier = 'pro', stripe_customer_id = 'cus_console_cap' where email = $1",
      [email],
    );
    const dashboard = await (await harness.request("/console", { headers: { Cookie: cookie } })).text();
    expect(dashboard).toMatch(/<label for="cap-units">Monthly spend cap/);
    for (const origin of ["https://evil.test", null]) {
      const forged = await post(
        "/console/spend-cap",
        { monthly_units: "10", form_token: formToken },
        { cookie, origin },
      );
      expect(forged.status).toBe(403);
    }
    expect(
      (await post("/console/spend-cap", { monthly_units: "10", form_token: "0".repeat(32) }, { cookie }))
        .status,
    ).toBe(403);
    expect(await capOf()).toBeNull();
    const bad = await post("/console/spend-cap", { monthly_units: "ten", form_token: formToken }, { cookie });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/whole number of units/);
    const set = await post("/console/spend-cap", { monthly_units: "10", form_token: formToken }, { cookie });
    expect(set.status).toBe(303);
    expect(set.headers.get("Location")).toBe("/console?done=cap-set");
    expect(String(await capOf())).toBe("10");
    const shown = await (
      await harness.request("/console?done=cap-set", { headers: { Cookie: cookie } })
    ).text();
    expect(shown).toMatch(/<dd id="spend-cap">10/);
    expect(shown).toMatch(/The spend cap is saved/);
    const removed = await post("/console/spend-cap", { remove: "1", form_token: formToken }, { cookie });
    expect(removed.headers.get("Location")).toBe("/console?done=cap-removed");
    expect(await capOf()).toBeNull();
  });

  it("roll shows the new key once and refuses the old one; the last key cannot be revoked (409, said on the page)", async () => {
    const email = "console-roll@example.com";
    const { cookie, formToken, page } = await signUp(email);
    const firstKey = /id="secret">([^<]+)</.exec(page)?.[1] ?? "";
    const { rows } = await harness.sql.query(
      "select k.id from api_keys k join accounts a on a.id = k.account_id where a.email = $1",
      [email],
    );
    const keyId = rows[0].id as string;
    const account = (key: string) =>
      harness.request("/v1/account", { headers: { Authorization: `Bearer ${key}` } });
    expect((await account(firstKey)).status).toBe(200);

    const rolled = await post(`/console/keys/${keyId}/roll`, { form_token: formToken }, { cookie });
    expect(rolled.status).toBe(200);
    const rolledPage = await rolled.text();
    const newKey = /id="secret">([^<]+)</.exec(rolledPage)?.[1] ?? "";
    expect(newKey).toMatch(/^sm_/);
    expect(newKey).not.toBe(firstKey);
    expect((await account(firstKey)).status).toBe(401);
    expect((await account(newKey)).status).toBe(200);

    const { rows: active } = await harness.sql.query(
      "select k.id from api_keys k join accounts a on a.id = k.account_id where a.email = $1 and k.revoked_at is null",
      [email],
    );
    const last = await post(`/console/keys/${active[0].id}/revoke`, { form_token: formToken }, { cookie });
    expect(last.status).toBe(409);
    expect(await last.text()).toContain("last key without an expiry");
    expect((await account(newKey)).status).toBe(200);
  });

  it("every console page has a CSP allowing no other host and is not stored", async () => {
    const response = await harness.request("/console");
    expect(response.status).toBe(200);
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(
      /^default-src 'none'; style-src 'nonce-[^']+'; style-src-attr 'unsafe-inline'; script-src 'nonce-[^']+'; img-src 'self'; form-action 'self' http:\/\/127\.0\.0\.1:\d+; base-uri 'none'; frame-ancestors 'none'$/,
    );
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
  });
});

describe("sign-in links", () => {
  it("one e-mail per request for a known address, none for an unknown one, the same answer both times", async () => {
    await signUp("console-link@example.com");
    harness.stack.resend.clear();
    const known = await post("/console/sign-in", { email: "console-link@example.com" });
    const unknown = await post("/console/sign-in", { email: "nobody-here@example.com" });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    const strip = (page: string) =>
      page
        .replace(/nonce="[^"]+"/g, "")
        .replace(/console-link@example\.com|nobody-here@example\.com/g, "ADDRESS");
    expect(strip(await known.text())).toBe(strip(await unknown.text()));
    expect(harness.stack.resend.messages()).toHaveLength(1);
    expect(harness.stack.resend.messagesTo("nobody-here@example.com")).toHaveLength(0);
  });

  it("a link is stored hashed, works once, and not after it expires; sign-out everywhere ends every session", async () => {
    const email = "console-once@example.com";
    const first = await signUp(email);
    harness.stack.resend.clear();
    await post("/console/sign-in", { email });
    const token =
      /token=([A-Za-z0-9_-]{43})/.exec(harness.stack.resend.messagesTo(email)[0]?.text ?? "")?.[1] ?? "";
    expect(token).not.toBe("");
    const { rows } = await harness.sql.query("select token_hash from console_sign_in_links");
    expect(rows.map((row) => row.token_hash)).toContain(sha256(token));
    expect(JSON.stringify(rows)).not.toContain(token);

    // GET only shows a button (a mail scanner fetching the link does not use it up).
    expect((await harness.request(`/console/link?token=${token}`)).status).toBe(200);
    const used = await post("/console/link", { token });
    expect(used.status).toBe(303);
    expect(used.headers.get("Location")).toBe("/console");
    const second = sessionCookieOf(used);
    expect(second.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await post("/console/link", { token });
    expect(again.headers.get("Location")).toBe("/console?done=link-used");
    expect(again.headers.get("Set-Cookie")).toBeNull();

    // An expired link is refused.
    await post("/console/sign-in", { email });
    const late =
      /token=([A-Za-z0-9_-]{43})/.exec(harness.stack.resend.messagesTo(email)[1]?.text ?? "")?.[1] ?? "";
    await harness.sql.query(
      "update console_sign_in_links set expires_at = now() - interval '1 second' where token_hash = $1",
      [sha256(late)],
    );
    expect((await post("/console/link", { token: late })).headers.get("Location")).toBe(
      "/console?done=link-used",
    );

    // Both sessions work; sign-out everywhere from the first ends the second too.
    const signedIn = async (cookie: string) =>
      (await (await harness.request("/console", { headers: { Cookie: cookie } })).text()).includes(
        "Signed in as",
      );
    const secondCookie = `__Host-sm_console=${second.value}`;
    expect(await signedIn(first.cookie)).toBe(true);
    expect(await signedIn(secondCookie)).toBe(true);
    const out = await post(
      "/console/sign-out-everywhere",
      { form_token: first.formToken },
      { cookie: first.cookie },
    );
    expect(out.status).toBe(303);
    expect(await signedIn(first.cookie)).toBe(false);
    expect(await signedIn(secondCookie)).toBe(false);
  });

  it("five live links per account at most (429); a Resend failure is a 503 page and logs no token", async () => {
    const email = "console-flood@example.com";
    await signUp(email);
    // Resend's default limit is 2 requests per second: pace the sends (the fake enforces it).
    const pace = () => new Promise((resolve) => setTimeout(resolve, 510));
    for (let sent = 0; sent < 5; sent += 1) {
      await pace();
      expect((await post("/console/sign-in", { email })).status).toBe(200);
    }
    const sixth = await post("/console/sign-in", { email });
    expect(sixth.status).toBe(429);
    expect(await sixth.text()).toContain("Several sign-in links were sent");

    const other = "console-outage@example.com";
    await signUp(other);
    harness.stack.resend.failNext(1, 500);
    await pace();
    const logged = vi.spyOn(console, "error");
    let lines: string[] = [];
    try {
      const failed = await post("/console/sign-in", { email: other });
      expect(failed.status).toBe(503);
      expect(await failed.text()).toContain("could not be sent right now");
    } finally {
      lines = logged.mock.calls.map((call) => call.join(" "));
      logged.mockRestore();
    }
    const { rows } = await harness.sql.query(
      "select l.token_hash from console_sign_in_links l join accounts a on a.id = l.account_id where a.email = $1",
      [other],
    );
    expect(rows).toHaveLength(1);
    expect(lines.join("\n")).toContain("console sign-in e-mail not sent");
    expect(lines.join("\n")).not.toMatch(/token=/);
  });

  it("a client IP may ask for CONSOLE_SIGN_IN_RATE_LIMIT e-mails (429 past it); another IP is not held back", async () => {
    const email = "console-ip@example.com";
    await signUp(email);
    const limited = { ...harness.env, CONSOLE_SIGN_IN_RATE_LIMIT: '{"limit":2,"windowSeconds":3600}' };
    const ask = (ip: string) =>
      harness.request(
        "/console/sign-in",
        {
          method: "POST",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            Origin: ORIGIN,
            "CF-Connecting-IP": ip,
          },
          body: new URLSearchParams({ email: "nobody-at-all@example.com" }).toString(),
        },
        limited,
      );
    expect((await ask("203.0.113.9")).status).toBe(200);
    expect((await ask("203.0.113.9")).status).toBe(200);
    const third = await ask("203.0.113.9");
    expect(third.status).toBe(429);
    expect(await third.text()).toContain("sign-in e-mails");
    expect((await ask("198.51.100.7")).status).toBe(200);
  });
});
