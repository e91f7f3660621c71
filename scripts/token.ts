/**
 * `npm run token -- --tier <tier> [--email <e>] [--customer <cus_...>] [--ttl <seconds>]`
 * Prints (stdout, nothing else) a fresh access token for a local account on that tier, creating the
 * account `local-<tier>@localhost` (or --email) when missing. Signed with JWT_PRIVATE_JWK /
 * JWT_SECRET from the environment, else with the dev keys of `npm run dev` (.local/dev-secrets.json),
 * so the local Worker accepts it:  TOKEN=$(npm run -s token -- --tier pro)
 */
import { listApiKeys, signUp } from "../src/access/accounts";
import { loadTokenKeys, type TokenConfig } from "../src/access/token-keys";
import { issueAccessToken } from "../src/access/tokens";
import { loadDevSecrets } from "../test/support/local-secrets";
import { connectDatabase, parseArgs, say } from "./lib/access-cli";

async function tokenConfig(): Promise<TokenConfig> {
  const env = process.env;
  if (env.JWT_PRIVATE_JWK || env.JWT_SECRET) {
    return {
      JWT_ALGORITHM:
        env.JWT_ALGORITHM === "HS256" || env.JWT_ALGORITHM === "EdDSA" ? env.JWT_ALGORITHM : undefined,
      JWT_PRIVATE_JWK: env.JWT_PRIVATE_JWK ? JSON.parse(env.JWT_PRIVATE_JWK) : undefined,
      JWT_PUBLIC_JWKS: env.JWT_PUBLIC_JWKS ? JSON.parse(env.JWT_PUBLIC_JWKS) : undefined,
      JWT_SECRET: env.JWT_SECRET,
    };
  }
  const secrets = await loadDevSecrets();
  return {
    JWT_PRIVATE_JWK: secrets.jwtPrivateJwk,
    JWT_PUBLIC_JWKS: secrets.jwtPublicJwks,
    JWT_ALGORITHM: undefined,
    JWT_SECRET: undefined,
  };
}

async function main(): Promise<number> {
  const { flags } = parseArgs(process.argv.slice(2));
  const tier = flags.tier;
  if (!tier || !/^[a-z0-9_-]{1,32}$/.test(tier)) {
    say("usage: npm run token -- --tier <tier> [--email <e>] [--customer <cus_...>] [--ttl <seconds>]");
    return 2;
  }
  const email = flags.email ?? `local-${tier}@localhost`;
  const ttlSeconds = Number(flags.ttl ?? process.env.TOKEN_TTL_SECONDS ?? 900);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 3600) {
    say("--ttl must be whole seconds between 60 and 3600");
    return 2;
  }
  const keys = await loadTokenKeys(await tokenConfig());
  const { db, close } = await connectDatabase();
  try {
    const existing = (await listApiKeys(db, email))[0];
    const account = existing
      ? { id: existing.account_id, tier: existing.tier, keyId: existing.revoked_at ? null : existing.key_id }
      : await signUp(db, { email, tier, keyName: "local-token" }).then(({ account }) => ({
          id: account.id,
          tier: account.tier,
          keyId: account.key_id,
        }));
    if (account.tier !== tier) say(`note: ${email} is on tier ${account.tier}; the token says ${tier}`);
    const issued = await issueAccessToken(
      keys,
      { accountId: account.id, tier, stripeCustomerId: flags.customer ?? null, apiKeyId: account.keyId },
      { ttlSeconds },
    );
    say(
      `token for ${email} (account ${account.id}, tier ${tier}), expires ${new Date(issued.expiresAt * 1000).toISOString()}`,
    );
    console.log(issued.token);
    return 0;
  } finally {
    await close();
  }
}

process.exitCode = await main().catch((error: unknown) => {
  say(`token: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
