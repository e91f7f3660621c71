/**
 * The API reference in a real browser (Debian's Chromium) against the built Worker under
 * `wrangler dev`: /docs renders /openapi.json with the renderer the Worker serves from its static
 * assets, lists the validate operation, loads nothing from any other host, and breaks no CSP rule.
 * A screenshot is saved to test-results/ (git-ignored) to look at.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser";
import { startWranglerDev, type WorkerProcess } from "../support/wrangler-dev";

const SCREENSHOTS = resolve(import.meta.dirname, "../../test-results");

let worker: WorkerProcess;
let browser: Browser;

beforeAll(async () => {
  // The documentation routes need no configuration: the Worker starts with none.
  [worker, browser] = await Promise.all([startWranglerDev({ vars: {} }), launchChromium()]);
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

/** Opens `path`, recording requests to other hosts (refused), console errors and bytes received. */
async function open(path: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const elsewhere: string[] = [];
  const errors: string[] = [];
  const received: Promise<number>[] = [];
  await page.route(
    (url) => url.origin !== worker.url,
    (route) => {
      elsewhere.push(route.request().url());
      return route.abort();
    },
  );
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("requestfinished", (request) =>
    received.push(request.sizes().then((sizes) => sizes.responseBodySize + sizes.responseHeadersSize)),
  );
  const response = await page.goto(`${worker.url}${path}`, { waitUntil: "networkidle" });
  return {
    page,
    status: response?.status(),
    elsewhere,
    errors,
    bytes: async () => (await Promise.all(received)).reduce((sum, size) => sum + size, 0),
    requests: () => received.length,
  };
}

async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, name) });
}

describe("API reference in Chromium", () => {
  it("renders /openapi.json from the Worker's own renderer and lists the validate operation", async () => {
    const docs = await open("/docs");
    expect(docs.status).toBe(200);
    const { page } = docs;
    await expect
      .poll(() => page.getByText("Validate (and optionally enrich) one JSON document").count(), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    // The quick start (the document's introduction) and a code sample of the validate operation.
    expect(await page.getByText("Quick start").count()).toBeGreaterThan(0);
    await screenshot(page, "reference-intro.png");
    // Opening the operation shows its curl sample (the document's x-codeSamples).
    await page.getByText("Validate (and optionally enrich) one JSON document").first().click();
    await expect
      .poll(() => page.getByText('curl -X POST "$SCHEMA_METER_URL/v1/validate"').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await page.waitForTimeout(500);
    // Operator routes are not on the customer page.
    expect(await page.getByText("/admin/flush").count()).toBe(0);
    await screenshot(page, "reference-page.png");
    const bytes = await docs.bytes();
    console.log(`/docs page weight: ${docs.requests()} requests, ${(bytes / 1024).toFixed(0)} KiB received`);
    expect(docs.elsewhere).toEqual([]);
    expect(docs.errors).toEqual([]);
    await page.close();
  });

  it("the operator reference lists the operator routes; the error page has each code's section", async () => {
    const operator = await open("/docs/operator");
    await expect
      .poll(() => operator.page.getByText("/admin/flush").count(), { timeout: 20_000 })
      .toBeGreaterThan(0);
    expect(operator.elsewhere).toEqual([]);
    expect(operator.errors).toEqual([]);
    await operator.page.close();

    const errors = await open("/docs/errors#token_invalid");
    expect(errors.status).toBe(200);
    const section = errors.page.locator("section:target");
    expect(await section.locator("h2").textContent()).toContain("TOKEN_INVALID");
    expect(await section.textContent()).toContain("POST /v1/token");
    await screenshot(errors.page, "error-page.png");
    expect(errors.elsewhere).toEqual([]);
    expect(errors.errors).toEqual([]);
    await errors.page.close();
  });
});
