/**
 * The migration runner behind `npm run db:migrate` and every test database: applies
 * `migrations/*.sql` in filename order, each file once and in its own transaction, and records
 * what it applied in `public.schema_migrations` with a checksum so an edited, already-applied file
 * is refused instead of silently diverging from production.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import pg from "pg";

export interface MigrateOptions {
  /** Folder of `*.sql` files. Default: the repository's `migrations/`. */
  dir?: string;
  /** Receives one line per file (applied or skipped). Default: silent. */
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** Files applied by this run, in order. */
  applied: string[];
  /** Files already applied earlier (checksum unchanged), in order. */
  skipped: string[];
}

export const DEFAULT_MIGRATIONS_DIR = resolve(import.meta.dirname, "../../migrations");

/**
 * Supabase's API roles. On Supabase they exist already; on a plain Postgres we create them so
 * migrations can grant to them and the PostgREST bridge can switch to them, as in production.
 */
const API_ROLES = ["anon", "authenticated", "service_role"] as const;
const AUTHENTICATOR_ROLE = "authenticator";

/** Key of the advisory lock that serialises runners on one database ("schema_meter" in ASCII). */
const MIGRATION_LOCK_KEY = 0x736368656d61;

/**
 * Applies the pending migrations to the database at `databaseUrl` and returns what it applied
 * and skipped. Throws, applying nothing further, if an applied file's checksum changed or a file
 * fails (that file's transaction is rolled back, earlier files stay applied).
 */
export async function applyMigrations(
  databaseUrl: string,
  opts: MigrateOptions = {},
): Promise<MigrateResult> {
  const dir = opts.dir ?? DEFAULT_MIGRATIONS_DIR;
  const log = opts.log ?? (() => {});
  const files = await readMigrationFiles(dir);

  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // a lost connection surfaces as a failed query below
  await client.connect();
  try {
    await ensureApiRoles(client);
    // Session-level lock: held across the per-file transactions, released on unlock or disconnect.
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await ensureMigrationsTable(client);
      return await applyPending(client, files, log);
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

interface MigrationFile {
  filename: string;
  sql: string;
  checksum: string;
}

async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  return Promise.all(
    names.map(async (filename) => {
      const sql = await readFile(join(dir, filename), "utf8");
      return { filename, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

async function applyPending(
  client: pg.Client,
  files: MigrationFile[],
  log: (line: string) => void,
): Promise<MigrateResult> {
  const { rows } = await client.query<{ filename: string; checksum: string }>(
    "select filename, checksum from public.schema_migrations",
  );
  const recorded = new Map(rows.map((row) => [row.filename, row.checksum]));

  // Refuse before applying anything: an edited migration means this database and the files disagree.
  for (const file of files) {
    const checksum = recorded.get(file.filename);
    if (checksum !== undefined && checksum !== file.checksum) {
      throw new Error(
        `migration ${file.filename} was changed after it was applied (recorded checksum ${checksum.slice(0, 12)}…, ` +
          `file now ${file.checksum.slice(0, 12)}…). Applied migrations are immutable: restore the file and ` +
          "put the change in a new migration.",
      );
    }
  }

  const result: MigrateResult = { applied: [], skipped: [] };
  for (const file of files) {
    if (recorded.has(file.filename)) {
      result.skipped.push(file.filename);
      log(`skipped ${file.filename} (already applied)`);
      continue;
    }
    await client.query("begin");
    try {
      await client.query(file.sql);
      await client.query("insert into public.schema_migrations (filename, checksum) values ($1, $2)", [
        file.filename,
        file.checksum,
      ]);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw new Error(`migration ${file.filename} failed and was rolled back: ${describe(error)}`, {
        cause: error,
      });
    }
    result.applied.push(file.filename);
    log(`applied ${file.filename}`);
  }
  return result;
}

async function ensureMigrationsTable(client: pg.Client): Promise<void> {
  await client.query(`
    create table if not exists public.schema_migrations (
      filename text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`);
  // Supabase grants new tables in public to its API roles by default; this one is for operators only.
  await client.query(`
    do $$ begin
      revoke all on table public.schema_migrations from public;
      if exists (select from pg_roles where rolname = 'anon') then
        revoke all on table public.schema_migrations from anon, authenticated;
      end if;
    end $$`);
}

/**
 * Creates the API roles when absent. Roles are cluster-wide while advisory locks are per database,
 * so runners on different test databases of one server can race here: creation tolerates "already
 * exists", and a catalog write conflict is retried.
 */
async function ensureApiRoles(client: pg.Client): Promise<void> {
  const statements = [
    ...API_ROLES.map((role) => createRoleIfAbsent(role, "nologin noinherit")),
    createRoleIfAbsent(AUTHENTICATOR_ROLE, "login noinherit"),
    ...API_ROLES.map((role) => grantRoleIfAbsent(role, AUTHENTICATOR_ROLE)),
  ];
  for (const statement of statements) {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(statement);
        break;
      } catch (error) {
        // "tuple concurrently updated" (XX000) when two sessions grant the same membership at once.
        const concurrent =
          (error as { code?: string }).code === "XX000" && /concurrently/.test(describe(error));
        if (!concurrent || attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }
}

function createRoleIfAbsent(role: string, attributes: string): string {
  return `
    do $$ begin
      if not exists (select from pg_roles where rolname = '${role}') then
        create role ${role} ${attributes};
      end if;
    exception when duplicate_object or unique_violation then
      null; -- created by a concurrent runner in the meantime
    end $$`;
}

function grantRoleIfAbsent(role: string, member: string): string {
  return `
    do $$ begin
      if not pg_has_role('${member}', '${role}', 'member') then
        grant ${role} to ${member};
      end if;
    exception when unique_violation then
      null; -- granted by a concurrent runner in the meantime
    end $$`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
