/**
 * `npm run db:migrate`: applies `migrations/*.sql` to the database named by DATABASE_URL (for
 * Supabase, the direct or session-pooler connection string from the dashboard) and prints one
 * line per migration file.
 */
import { applyMigrations } from "../test/support/migrate";

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error(
      "DATABASE_URL is not set. Set it to the Postgres connection string to migrate, e.g.\n" +
        "  DATABASE_URL=postgres://postgres:PASSWORD@HOST:5432/postgres npm run db:migrate",
    );
    return 1;
  }
  try {
    const { applied, skipped } = await applyMigrations(databaseUrl, { log: (line) => console.log(line) });
    console.log(`${redactUrl(databaseUrl)}: ${applied.length} applied, ${skipped.length} already applied`);
    return 0;
  } catch (error) {
    console.error(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** The URL without its password, for the summary line. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

process.exitCode = await main();
