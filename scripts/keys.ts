/**
 * `npm run keys -- <command>`: API keys for operators.
 *
 *   create --email <e> [--tier free] [--name default]   new account (or new key for an existing one);
 *                                                      prints the key once on stdout
 *   list [--email <e>]                                  keys (prefix, state with any expiry, account), never secrets
 *   revoke <key id | prefix>                            revokes it at once: the key (its Redis entry) and its live tokens
 *
 * Postgres: DATABASE_URL, else the dev database of `npm run dev`. Redis (for revoke):
 * UPSTASH_REDIS_REST_URL/TOKEN, else REDIS_URL or 127.0.0.1:6379.
 */
import { createApiKey, listApiKeys, revokeApiKey, signUp } from "../src/access/accounts";
import { connectDatabase, connectRedis, parseArgs, say } from "./lib/access-cli";

const USAGE =
  "usage: npm run keys -- create --email <e> [--tier <tier>] [--name <n>] | list [--email <e>] | revoke <id|prefix>";

async function main(): Promise<number> {
  const { words, flags } = parseArgs(process.argv.slice(2));
  const [command, target] = words;
  if (command !== "create" && command !== "list" && command !== "revoke") {
    say(USAGE);
    return 2;
  }
  const { db, close } = await connectDatabase();
  try {
    if (command === "create") {
      const email = flags.email;
      if (!email || email === "true") {
        say(USAGE);
        return 2;
      }
      const existing = (await listApiKeys(db, email))[0];
      const created = existing
        ? await createApiKey(db, { account: existing.account_id, keyName: flags.name })
        : await signUp(db, { email, tier: flags.tier ?? "free", keyName: flags.name });
      if (!created) throw new Error("account vanished while adding a key");
      if (existing && flags.tier && flags.tier !== existing.tier) {
        say(`note: ${email} already exists on tier ${existing.tier}; --tier ${flags.tier} was not applied`);
      }
      say(
        `${existing ? "new key for" : "created"} ${created.account.email} (account ${created.account.id}, tier ${created.account.tier}), key ${created.account.key_prefix} — shown once:`,
      );
      console.log(created.apiKey);
      return 0;
    }
    if (command === "list") {
      const keys = await listApiKeys(db, flags.email);
      if (keys.length === 0) say("no keys");
      for (const key of keys) {
        const expired = key.expires_at !== null && Date.parse(key.expires_at) <= Date.now();
        const state = key.revoked_at
          ? `revoked ${key.revoked_at}`
          : expired
            ? `expired ${key.expires_at}`
            : key.expires_at
              ? `active until ${key.expires_at}`
              : "active";
        console.log(
          [
            key.key_prefix,
            key.key_id,
            key.email,
            key.tier,
            key.status,
            state,
            `last used ${key.last_used_at ?? "never"}`,
          ].join("\t"),
        );
      }
      return 0;
    }
    if (!target) {
      say(USAGE);
      return 2;
    }
    const redis = await connectRedis();
    try {
      const revoked = await revokeApiKey({ db, redis: redis?.redis }, target);
      if (!revoked) {
        say(`no key ${target}`);
        return 1;
      }
      console.log(`revoked ${revoked.key_prefix} (${revoked.key_id}) at ${revoked.revoked_at}`);
      if (!revoked.denyListed) {
        say(
          "warning: no Redis reachable, so the key (cached for the hot path for up to an hour) and tokens already minted from it (at most TOKEN_TTL_SECONDS) may keep working until then; run revoke again once Redis is reachable",
        );
      }
      return 0;
    } finally {
      await redis?.close();
    }
  } finally {
    await close();
  }
}

process.exitCode = await main().catch((error: unknown) => {
  say(`keys: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
