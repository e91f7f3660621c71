import { Scalar } from "@scalar/hono-api-reference";
import type { Context } from "hono";
import type { AppBindings } from "../env";

/**
 * Where the Worker's static assets ([assets] in wrangler.toml) hold Scalar's browser build, copied
 * from the pinned @scalar/api-reference package by scripts/copy-reference-assets.mjs.
 */
export const RENDERER_SCRIPT = "/docs/scalar/standalone.esm.js";

/**
 * The reference pages' Content-Security-Policy: scripts from this origin only (the renderer) plus
 * the one inline start-up script, by nonce; styles the renderer injects; requests to this origin
 * only (the OpenAPI document, and "Test request" calls to the API). Nothing from any other host.
 */
function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The interactive reference (Scalar) of the OpenAPI document at `documentUrl`, with its renderer
 * loaded from this Worker: no CDN, no fonts, no telemetry, no AI agent, only the code samples the
 * document carries (`x-codeSamples`).
 */
export function referencePage(options: { documentUrl: string; title: string }) {
  return async (c: Context<AppBindings>): Promise<Response> => {
    const nonce = newNonce();
    const render = Scalar({
      url: options.documentUrl,
      pageTitle: options.title,
      bundle: RENDERER_SCRIPT,
      nonce,
      theme: "default",
      withDefaultFonts: false,
      telemetry: false,
      hiddenClients: true,
      documentDownloadType: "json",
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never",
      defaultOpenAllTags: true,
    });
    // Scalar's middleware is typed for Hono's default bindings; it reads none of ours.
    const response = (await render(c as unknown as Context, async () => {})) ?? (await c.notFound());
    response.headers.set("Content-Security-Policy", contentSecurityPolicy(nonce));
    return response;
  };
}
