/**
 * `npm run secrets:generate`: new production secrets, printed once on stdout and written nowhere.
 *
 *   npm run -s secrets:generate                        JWT_PRIVATE_JWK, JWT_PUBLIC_JWKS, ADMIN_TOKEN as NAME='value' lines
 *   npm run -s secrets:generate -- --json | npx wrangler secret bulk [--env production]
 *                                                      the same, straight into the Worker's secrets
 *   npm run -s secrets:generate -- --only jwt --previous-jwks "$CURRENT_PUBLIC_JWKS"
 *                                                      a key rotation: a new signing key, published
 *                                                      beside the current public keys
 *
 * The signing key is an Ed25519 JWK with a `kid` (`sm-<date>-<random>`), `alg: EdDSA`, `use: sig`;
 * JWT_PUBLIC_JWKS holds its public half first, then any previous public keys, so tokens signed by
 * the old key keep verifying until they expire (at most TOKEN_TTL_SECONDS). The admin token is 32
 * random bytes, base64url. Exit codes: 0 printed, 2 usage error.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { exportJWK, generateKeyPair } from "jose";
import { parseArgs, say } from "./lib/access-cli";

type Jwk = Record<string, unknown>;

export type GeneratedSecrets = {
  JWT_PRIVATE_JWK?: string;
  JWT_PUBLIC_JWKS?: string;
  ADMIN_TOKEN?: string;
};

export interface GenerateOptions {
  /** Which secrets: both (default), only the token keys, or only the admin token. */
  only?: "jwt" | "admin";
  /** The JWKS in force now (rotation): its public keys stay published after the new one. */
  previousJwks?: { keys: Jwk[] };
  now?: Date;
}

const PUBLIC_MEMBERS = ["kty", "crv", "x", "kid", "alg", "use"];

/** Fresh secrets; nothing is written anywhere. */
export async function generateSecrets(options: GenerateOptions = {}): Promise<GeneratedSecrets> {
  const secrets: GeneratedSecrets = {};
  if (options.only !== "admin") {
    const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const day = (options.now ?? new Date()).toISOString().slice(0, 10);
    const kid = `sm-${day}-${randomBytes(4).toString("hex")}`;
    const meta = { kid, alg: "EdDSA", use: "sig" };
    const previous = (options.previousJwks?.keys ?? []).map((jwk) =>
      Object.fromEntries(Object.entries(jwk).filter(([name]) => PUBLIC_MEMBERS.includes(name))),
    );
    secrets.JWT_PRIVATE_JWK = JSON.stringify({ ...(await exportJWK(privateKey)), ...meta });
    secrets.JWT_PUBLIC_JWKS = JSON.stringify({
      keys: [{ ...(await exportJWK(publicKey)), ...meta }, ...previous],
    });
  }
  if (options.only !== "jwt") secrets.ADMIN_TOKEN = randomBytes(32).toString("base64url");
  return secrets;
}

function parsePreviousJwks(text: string): { keys: Jwk[] } {
  const parsed = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(parsed.keys) || parsed.keys.some((key) => typeof key !== "object" || key === null)) {
    throw new Error('--previous-jwks must be a JWKS: {"keys":[...]}');
  }
  if (parsed.keys.some((key) => "d" in (key as Jwk))) {
    throw new Error("--previous-jwks holds a private key: pass the public JWKS (JWT_PUBLIC_JWKS)");
  }
  return parsed as { keys: Jwk[] };
}

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const only = flags.only;
  if (only !== undefined && only !== "jwt" && only !== "admin") {
    say("usage: npm run -s secrets:generate -- [--only jwt|admin] [--previous-jwks '<JWKS>'] [--json]");
    return 2;
  }
  let previousJwks: { keys: Jwk[] } | undefined;
  try {
    previousJwks = flags["previous-jwks"] ? parsePreviousJwks(flags["previous-jwks"]) : undefined;
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const secrets = await generateSecrets({ only, previousJwks });
  if (flags.json) {
    console.log(JSON.stringify(secrets));
  } else {
    say(
      "# Shown once and stored nowhere: put each into the Worker (npx wrangler secret put NAME), keep no copy.",
    );
    for (const [name, value] of Object.entries(secrets)) console.log(`${name}='${value}'`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      say(`secrets:generate failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
