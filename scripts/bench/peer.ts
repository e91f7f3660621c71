/**
 * The bench's peer Worker (./peer-worker/index.ts: Hono, hono/jwt EdDSA, @upstash/ratelimit
 * slidingWindow, an awaited LPUSH with @upstash/redis, @cfworker/json-schema), bundled here with
 * esbuild (wrangler's own bundler, minified as our Worker is) into a folder `startWorkerdServe`
 * serves with the same workerd, configuration and body as ours.
 */
import { resolve } from "node:path";
import { build } from "esbuild";
import type { JWK } from "jose";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "../../src/access/tokens";
import type { LocalStack } from "../../test/support/local-stack";
import { floorVars } from "./floor";

const PEER_ENTRY = resolve(import.meta.dirname, "peer-worker/index.ts");

/** Bundles the peer Worker into `outdir/index.js` (ES module, workerd conditions, minified). */
export async function buildPeerWorker(outdir: string): Promise<void> {
  await build({
    entryPoints: [PEER_ENTRY],
    outfile: resolve(outdir, "index.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    minify: true,
    keepNames: true,
    logLevel: "warning",
  });
}

/** The peer's configuration: the stack's Redis REST address and the token service's public key. */
export function peerVars(stack: LocalStack): Record<string, string> {
  const { d: _private, ...publicJwk } = stack.secrets.jwtPrivateJwk as JWK;
  return {
    ...floorVars(stack),
    JWT_PUBLIC_JWK: JSON.stringify(publicJwk),
    TOKEN_ISSUER,
    TOKEN_AUDIENCE,
  };
}
