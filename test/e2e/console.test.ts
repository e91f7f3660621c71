/**
 * The customer console in a real browser (Debian's Chromium) against the built Worker under
 * `wrangler dev`, with real Redis and Postgres, the fake Stripe (checkout page, webhooks) and the
 * fake Resend (sign-in e-mails recorded): sign up → copy the key → call the API with it → see the
 * call counted → upgrade through the fake checkout → tier shown as pro; create and revoke a key;
 * lost key → e-mailed link → signed in → new key; the link works once. Screenshots go to
 * test-results/ (git-ignored) to look at; the page weight is printed.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupStripe } from "../../scripts/stripe-setup";
import { createStripeClient } from "../../src/adapters/stripe/sdk";
import { launchChromium } from "../support/browser";
import { type LocalStack, startLocalStack } from "../support/local-stack";
import { freePort } from "../support/ports";
import { E2E_ADMISSION_TIMEOUT_MS, startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

const SCREENSHOTS = resolve(import.meta.dirname, "../../test-results");

let stack: LocalStack;
let worker: WorkerProcess;
let browser: Browser;

beforeAll(async () => {
  stack = await startLocalStack({ redis: "own" });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  [worker, browser] = await Promise.all([
    startWranglerDev({
      port,
      testScheduled: true,
      vars: {
        FLUSH_SETTLE_SECONDS: "0",
        ...(stack.vars as Record<string, string>),
        CONSOLE_URL: origin,
        BILLING_SUCCESS_URL: `${origin}/console`,
        RATE_LIMIT_TIERS:
          '{"free":{"limit":100,"windowSeconds":10,"monthlyQuota":1000},"pro":{"limit":200,"windowSeconds":10}}',
        ADMISSION_TIMEOUT_MS: E2E_ADMISSION_TIMEOUT_MS,
      },
    }),
    launchChromium(),
  ]);
  stack.stripe.setAutoDeliverTo(`${worker.url}/webhooks/stripe`);
  await setupStripe(
    createStripeClient({ secretKey: stack.stripe.apiKey, apiBase: stack.stripe.url, timeoutMs: 5000 }),
    {
      eventName: "api_validation",
      lookupKeys: { pro: "schema_meter_pro" },
      currency: "usd",
      unitAmountDecimal: "0.1",
    },
  );
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await stack?.stop();
});

/** A fresh browser profile that refuses (and records) requests to any host but the Worker and the fake Stripe pages. */
async function newContext(): Promise<{
  context: BrowserContext;
  page: Page;
  elsewhere: string[];
  errors: string[];
}> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: worker.url });
  const elsewhere: string[] = [];
  const errors: string[] = [];
  await context.route(
    (url) => url.origin !== worker.url && url.origin !== stack.stripe.url,
    (route) => {
      elsewhere.push(route.request().url());
      return route.abort();
    },
  );
  // Long tasks (over 50 ms of main-thread work) are what delays interactivity: recorded from the start.
  await context.addInitScript(`
    globalThis.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) globalThis.__longTasks.push(entry.startTime + entry.duration);
    }).observe({ type: "longtask", buffered: true });
  `);
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { context, page, elsewhere, errors };
}

const validate = (key: string) =>
  fetch(`${worker.url}/v1/validate`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ schema: { type: "object", required: ["id"] }, data: { id: 1 } }),
  });

/**
 * The page's timings from Navigation Timing, in ms from the start of navigation: first contentful
 * paint, DOMContentLoaded (the forms and the copy button work from then: no framework boots) and
 * load; time to interactive is DOMContentLoaded or the end of the last long task, whichever is later.
 */
async function pageTimings(
  page: Page,
): Promise<{ fcp: number; dcl: number; load: number; tti: number; longTasks: number }> {
  return page.evaluate(`(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    const tasks = globalThis.__longTasks ?? [];
    const dcl = nav.domContentLoadedEventEnd;
    return { fcp: paint ? paint.startTime : Number.NaN, dcl, load: nav.loadEventEnd, tti: Math.max(dcl, ...tasks), longTasks: tasks.length };
  })()`);
}

const describeTimings = (t: Awaited<ReturnType<typeof pageTimings>>) =>
  `first paint ${Number.isNaN(t.fcp) ? "not yet reported" : `${t.fcp.toFixed(0)} ms`}, interactive ${t.tti.toFixed(0)} ms (DOMContentLoaded ${t.dcl.toFixed(0)} ms, ${t.longTasks} long tasks), load ${t.load.toFixed(0)} ms`;

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

describe("customer console in Chromium", () => {
  it("sign up → copy the key → call the API → usage counted → upgrade through checkout → pro; create and revoke a key", async () => {
    const { context, page, elsewhere, errors } = await newContext();
    const received: Promise<number>[] = [];
    page.on("requestfinished", (request) =>
      received.push(request.sizes().then((sizes) => sizes.responseBodySize + sizes.responseHeadersSize)),
    );
    const started = performance.now();
    const landing = await page.goto(`${worker.url}/console`, { waitUntil: "load" });
    const loadMs = performance.now() - started;
    expect(landing?.status()).toBe(200);
    const csp = landing?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'nonce-[^']+'/);
    const bytes = (await Promise.all(received)).reduce((sum, size) => sum + size, 0);
    const landingTimings = await pageTimings(page);
    console.log(
      `/console page weight: ${received.length} request(s), ${bytes} bytes; loaded in ${loadMs.toFixed(0)} ms; ${describeTimings(landingTimings)}`,
    );
    expect(landingTimings.tti).toBeGreaterThan(0);
    expect(received.length).toBe(1);
    await shot(page, "console-signed-out.png");

    // Keyboard only: the e-mail field is labelled, and Enter submits the form.
    await page.getByLabel("E-mail").first().fill("console-e2e@example.com");
    await page.getByLabel("E-mail").first().press("Enter");
    await page.waitForURL(`${worker.url}/console/signup`);
    const shown = (await page.locator("#secret").textContent())?.trim() ?? "";
    expect(shown).toMatch(/^sm_/);
    await page.getByRole("button", { name: "Copy key" }).click();
    await expect.poll(() => page.locator("#copied").textContent()).toBe("Copied.");
    const copied = String(await page.evaluate("navigator.clipboard.readText()"));
    expect(copied).toBe(shown);
    await shot(page, "console-first-key.png");
    const cookies = await context.cookies(worker.url);
    const session = cookies.find((cookie) => cookie.name === "__Host-sm_console");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/" });

    // A call with the copied key, then the console counts it.
    expect((await validate(copied)).status).toBe(200);
    await page.getByRole("link", { name: "Continue to the console" }).click();
    await expect.poll(() => page.locator("#units").textContent()).toBe("1");
    const signedIn = await page.evaluate("document.documentElement.outerHTML.length");
    console.log(
      `/console signed in: ${signedIn} characters of HTML, no other request; ${describeTimings(await pageTimings(page))}`,
    );
    expect(await page.locator("#tier").textContent()).toBe("free");
    // A free account's units per day come from the admission counters: today's call is there at once.
    const day = new Date().toISOString().slice(0, 10);
    expect(await page.locator("table:has(caption) caption").textContent()).toBe("Units per day");
    expect(await page.locator("table:has(caption) tr", { hasText: day }).textContent()).toContain("1");
    // The free tier's monthly quota and what is left of it; no spend cap form (not paying).
    expect(await page.locator("#quota").textContent()).toBe("1,000");
    expect(await page.locator("#remaining").textContent()).toMatch(
      /^999 \(resets \d{4}-\d\d-01 00:00 UTC\)$/,
    );
    expect(await page.getByLabel(/Monthly spend cap/).count()).toBe(0);
    expect(await page.locator("tr[data-key]").count()).toBe(1);

    // A second key, shown once; then revoked, and gone from the list.
    await page.getByLabel("New key name").fill("ci");
    await page.getByRole("button", { name: "Create key" }).click();
    const ciKey = (await page.locator("#secret").textContent())?.trim() ?? "";
    expect((await validate(ciKey)).status).toBe(200);
    await page.getByRole("link", { name: "Continue to the console" }).click();
    await page.waitForURL(`${worker.url}/console`);
    await expect.poll(() => page.locator("tr[data-key]").count()).toBe(2);
    await shot(page, "console-keys.png");
    await page.getByRole("button", { name: /^Revoke key ci / }).click();
    await expect.poll(() => page.getByText("The key is revoked").count()).toBe(1);
    expect(await page.locator("tr[data-key]").count()).toBe(1);
    expect(await page.getByRole("button", { name: /^Revoke key ci / }).count()).toBe(0);
    expect((await validate(ciKey)).status).toBe(401);

    // Upgrade: the fake Stripe's checkout page, Pay, back to the console showing pro.
    await page.getByRole("button", { name: "Upgrade to pro" }).click();
    await page.waitForURL((url) => url.origin === stack.stripe.url);
    await page.getByRole("button", { name: "Pay" }).click();
    await page.waitForURL((url) => url.origin === worker.url && url.pathname === "/console");
    // The webhook may land a moment after the redirect: the page shows pro once it has.
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator("#tier").textContent();
        },
        { timeout: 20_000 },
      )
      .toBe("pro");
    expect(await page.locator("#estimate").textContent()).toMatch(
      /^\$0\.00 \(\d+ units? at \$0\.001 each\)$/,
    );
    expect(await page.getByRole("button", { name: /Manage billing/ }).count()).toBe(1);
    // A paid call, moved to the billing ledger by the cron's flusher: today's bar and row appear.
    expect((await validate(copied)).status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    await expect
      .poll(
        async () => {
          await fetch(`${worker.url}/__scheduled?cron=*+*+*+*+*`);
          await page.reload();
          return page.locator("table:has(caption) tr", { hasText: today }).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    // One bar per day since the start of last month; only today's has height.
    const bars = await page
      .locator(".bars span")
      .evaluateAll((spans) => spans.map((span) => [span.getAttribute("title"), span.getAttribute("style")]));
    expect(bars.length).toBeGreaterThanOrEqual(29);
    expect(bars.filter(([, style]) => style !== "height:0%")).toEqual([[`${today}: 1`, "height:100%"]]);
    await shot(page, "console-pro.png");

    // Pro has no quota; a spend cap set in the console is enforced at once, and removed again.
    expect(await page.locator("#quota").textContent()).toBe("none");
    expect(await page.locator("#remaining").textContent()).toMatch(/^unlimited/);
    await page.getByLabel(/Monthly spend cap/).fill("3");
    await page.getByRole("button", { name: "Save cap" }).click();
    await expect.poll(() => page.getByText("The spend cap is saved").count()).toBe(1);
    expect(await page.locator("#spend-cap").textContent()).toBe(
      "3 — at most $0.00 (3 units at $0.001 each) a month",
    );
    expect(await page.locator("#remaining").textContent()).toMatch(/^0 \(resets/);
    const capped = await validate(copied);
    expect(capped.status).toBe(429);
    expect(((await capped.json()) as { code: string }).code).toBe("QUOTA_EXCEEDED");
    await shot(page, "console-spend-cap.png");
    await page.getByRole("button", { name: "Remove cap" }).click();
    await expect.poll(() => page.getByText("The spend cap is removed.").count()).toBe(1);
    expect(await page.locator("#spend-cap").textContent()).toBe("none");
    expect((await validate(copied)).status).toBe(200);

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await expect.poll(() => page.getByText("You are signed out.").count()).toBe(1);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("lost key → e-mailed one-time link → signed in → a new key that works; the link works once", async () => {
    const address = "console-lost@example.com";
    const signup = await fetch(`${worker.url}/v1/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: address }),
    });
    expect(signup.status).toBe(201);

    const { context, page, elsewhere, errors } = await newContext();
    await page.goto(`${worker.url}/console`);
    await page.locator("#signin-email").fill(address);
    await page.getByRole("button", { name: "E-mail me a sign-in link" }).click();
    await expect.poll(() => page.getByText("a sign-in link is on its way").count()).toBe(1);
    await shot(page, "console-check-inbox.png");

    const [message] = stack.resend.messagesTo(address);
    expect(message?.from).toBe("Schema Meter <console@schema-meter.test>");
    const link = /http:\/\/\S+\/console\/link\?token=[A-Za-z0-9_-]{43}/.exec(message?.text ?? "")?.[0];
    expect(link, message?.text ?? "no e-mail").toBeDefined();
    expect(new URL(link as string).origin).toBe(worker.url);

    await page.goto(link as string);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${worker.url}/console`);
    expect(await page.getByText(`Signed in as ${address}`).count()).toBe(1);
    await page.getByLabel("New key name").fill("recovered");
    await page.getByRole("button", { name: "Create key" }).click();
    const recovered = (await page.locator("#secret").textContent())?.trim() ?? "";
    expect((await validate(recovered)).status).toBe(200);
    await context.close();

    // The same link again, in another browser: used up.
    const second = await newContext();
    await second.page.goto(link as string);
    await second.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => second.page.getByText("That sign-in link is used or expired").count()).toBe(1);
    expect(await second.page.getByText("Signed in as").count()).toBe(0);
    expect([...elsewhere, ...second.elsewhere]).toEqual([]);
    expect([...errors, ...second.errors]).toEqual([]);
    await second.context.close();
  });
});
