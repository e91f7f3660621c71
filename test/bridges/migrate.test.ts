/**
 * The migration runner (`applyMigrations`, `npm run db:migrate`) and what 0001_foundation
 * guarantees, against real Postgres test databases.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from "../support/migrate";
import {
  createTestDatabase,
  findOrStartPostgres,
  type PostgresHandle,
  startPostgresCluster,
  type TestDatabase,
} from "../support/postgres";

const ROOT = resolve(import.meta.dirname, "../..");

let server: PostgresHandle;
const databases: TestDatabase[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  server = await findOrStartPostgres();
});

afterEach(async () => {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  for (const database of databases) await database.drop();
  await server?.stop();
});

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase(server, "migrate_test");
  databases.push(database);
  return database;
}

/** A copy of migrations/ that a test may change without touching the repository. */
async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "migrations-"));
  tempDirs.push(dir);
  for (const file of await readdir(DEFAULT_MIGRATIONS_DIR)) {
    await copyFile(join(DEFAULT_MIGRATIONS_DIR, file), join(dir, file));
  }
  return dir;
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const repositoryMigrations = async () =>
  (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql")).sort();

describe("applyMigrations", () => {
  it("applies every migration once, in filename order, and records it", async () => {
    const database = await freshDatabase();
    const lines: string[] = [];
    const first = await applyMigrations(database.url, { log: (line) => lines.push(line) });

    const files = await repositoryMigrations();
    expect(files[0]).toBe("0001_foundation.sql");
    expect(first).toEqual({ applied: files, skipped: [] });
    expect(lines).toEqual(files.map((file) => `applied ${file}`));
    const recorded = await query<{ filename: string; checksum: string; applied_at: Date }>(
      database.url,
      "select filename, checksum, applied_at from public.schema_migrations order by filename",
    );
    expect(recorded.map((row) => row.filename)).toEqual(files);
    expect(recorded[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(recorded[0]?.applied_at).toBeInstanceOf(Date);
  });

  it("is idempotent: a second run applies nothing and skips everything", async () => {
    const database = await freshDatabase();
    await applyMigrations(database.url);
    const lines: string[] = [];
    const second = await applyMigrations(database.url, { log: (line) => lines.push(line) });

    const files = await repositoryMigrations();
    expect(second).toEqual({ applied: [], skipped: files });
    expect(lines).toEqual(files.map((file) => `skipped ${file} (already applied)`));
    const [{ count }] = (await query<{ count: string }>(
      database.url,
      "select count(*) from public.schema_migrations",
    )) as [{ count: string }];
    expect(Number(count)).toBe(files.length);
  });

  it("applies only the new file when one is added later", async () => {
    const database = await freshDatabase();
    const dir = await copyOfMigrations();
    await applyMigrations(database.url, { dir });
    await writeFile(join(dir, "9999_later.sql"), "create table public.later (id int primary key);\n");

    const result = await applyMigrations(database.url, { dir });
    expect(result.applied).toEqual(["9999_later.sql"]);
    expect(result.skipped).toEqual(await repositoryMigrations());
    expect(await query(database.url, "select to_regclass('public.later') as t")).toEqual([{ t: "later" }]);
  });

  it("refuses, applying nothing, when an applied file's checksum changed", async () => {
    const database = await freshDatabase();
    const dir = await copyOfMigrations();
    await applyMigrations(database.url, { dir });
    await writeFile(join(dir, "0001_foundation.sql"), "-- edited after the fact\nselect 1;\n");
    await writeFile(join(dir, "9999_pending.sql"), "create table public.pending (id int);\n");

    await expect(applyMigrations(database.url, { dir })).rejects.toThrow(
      /migration 0001_foundation\.sql was changed after it was applied/,
    );
    expect(await query(database.url, "select to_regclass('public.pending') as t")).toEqual([{ t: null }]);
  });

  it("rolls a failing file back whole and does not record it", async () => {
    const database = await freshDatabase();
    const dir = await copyOfMigrations();
    await writeFile(
      join(dir, "9999_broken.sql"),
      "create table public.half_done (id int);\nselect * from no_such_table;\n",
    );

    await expect(applyMigrations(database.url, { dir })).rejects.toThrow(
      /9999_broken\.sql failed and was rolled back/,
    );
    expect(await query(database.url, "select to_regclass('public.half_done') as t")).toEqual([{ t: null }]);
    const recorded = await query<{ filename: string }>(
      database.url,
      "select filename from public.schema_migrations",
    );
    expect(recorded.map((row) => row.filename)).toEqual(await repositoryMigrations());
  });

  it("serialises concurrent runners: each file is applied exactly once", async () => {
    const database = await freshDatabase();
    const runs = await Promise.all([1, 2, 3].map(() => applyMigrations(database.url)));

    const files = await repositoryMigrations();
    const appliedBy = runs.filter((run) => run.applied.length > 0);
    expect(appliedBy).toHaveLength(1);
    expect(appliedBy[0]?.applied).toEqual(files);
    for (const run of runs) expect([...run.applied, ...run.skipped]).toEqual(files);
  });

  it("survives runners on different databases creating the cluster-wide roles at once", async () => {
    // A fresh cluster of our own, so the roles really are absent when the runners start.
    const cluster = await startPostgresCluster();
    try {
      const fresh = await Promise.all([1, 2, 3].map(() => createTestDatabase(cluster, "roles_race")));
      const runs = await Promise.all(fresh.map((database) => applyMigrations(database.url)));
      for (const run of runs) expect(run.applied).toEqual(await repositoryMigrations());
      const roles = await query<{ n: string }>(
        cluster.adminUrl,
        "select count(*) as n from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')",
      );
      expect(Number(roles[0]?.n)).toBe(4);
    } finally {
      await cluster.destroy();
    }
  });
});

describe("0001_foundation", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await freshDatabase();
    await applyMigrations(database.url);
  });

  it("creates Supabase's roles: three NOLOGIN API roles granted to a LOGIN NOINHERIT authenticator", async () => {
    const roles = await query<{
      rolname: string;
      rolcanlogin: boolean;
      rolinherit: boolean;
      granted: boolean;
    }>(
      database.url,
      `select rolname, rolcanlogin, rolinherit, pg_has_role('authenticator', oid, 'member') as granted
         from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
         order by rolname`,
    );
    expect(roles).toEqual([
      { rolname: "anon", rolcanlogin: false, rolinherit: expect.any(Boolean), granted: true },
      { rolname: "authenticated", rolcanlogin: false, rolinherit: expect.any(Boolean), granted: true },
      { rolname: "authenticator", rolcanlogin: true, rolinherit: false, granted: true },
      { rolname: "service_role", rolcanlogin: false, rolinherit: expect.any(Boolean), granted: true },
    ]);
  });

  it("health_check() answers {ok: true, now: <UTC ISO timestamp>} to service_role only", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("begin");
      await client.query("set local role service_role");
      const { rows } = await client.query<{ health: { ok: boolean; now: string } }>(
        "select public.health_check() as health",
      );
      await client.query("rollback");
      expect(rows[0]?.health.ok).toBe(true);
      expect(rows[0]?.health.now).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(Math.abs(Date.parse(rows[0]?.health.now ?? "") - Date.now())).toBeLessThan(60_000);
    } finally {
      await client.end();
    }
    const privileges = await query<{ role: string; can: boolean }>(
      database.url,
      `select r as role, has_function_privilege(r, 'public.health_check()', 'execute') as can
         from unnest(array['service_role', 'anon', 'authenticated']) r`,
    );
    expect(privileges).toEqual([
      { role: "service_role", can: true },
      { role: "anon", can: false },
      { role: "authenticated", can: false },
    ]);
  });

  it("makes functions and tables created by later migrations service_role-only by default", async () => {
    await query(database.url, "create function public.later_fn() returns int language sql as 'select 1'");
    await query(database.url, "create table public.later_table (id int)");
    const rows = await query<Record<string, boolean>>(
      database.url,
      `select has_function_privilege('service_role', 'public.later_fn()', 'execute') as service_fn,
              has_function_privilege('anon', 'public.later_fn()', 'execute') as anon_fn,
              has_function_privilege('authenticated', 'public.later_fn()', 'execute') as authenticated_fn,
              has_table_privilege('service_role', 'public.later_table', 'select, insert, update, delete') as service_table,
              has_table_privilege('anon', 'public.later_table', 'select') as anon_table`,
    );
    expect(rows[0]).toEqual({
      service_fn: true,
      anon_fn: false,
      authenticated_fn: false,
      service_table: true,
      anon_table: false,
    });
  });

  it("keeps schema_migrations away from the API roles", async () => {
    const rows = await query<{ anon: boolean; service: boolean }>(
      database.url,
      `select has_table_privilege('anon', 'public.schema_migrations', 'select') as anon,
              has_table_privilege('service_role', 'public.schema_migrations', 'select') as service`,
    );
    expect(rows[0]).toEqual({ anon: false, service: false });
  });

  it("starts every SQL file with a header comment (what it guarantees)", async () => {
    for (const file of await repositoryMigrations()) {
      const text = await readFile(join(DEFAULT_MIGRATIONS_DIR, file), "utf8");
      expect(text.startsWith("--"), file).toBe(true);
    }
    const foundation = await readFile(join(DEFAULT_MIGRATIONS_DIR, "0001_foundation.sql"), "utf8");
    expect(foundation).toMatch(/Guarantees:/);
  });
});

describe("npm run db:migrate (scripts/migrate.ts)", () => {
  const run = promisify(execFile);
  const tsx = join(ROOT, "node_modules/.bin/tsx");
  const env = (databaseUrl?: string) => {
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    return databaseUrl ? { ...rest, DATABASE_URL: databaseUrl } : rest;
  };

  it("explains what is missing when DATABASE_URL is not set", async () => {
    const failure = await run(tsx, ["scripts/migrate.ts"], { cwd: ROOT, env: env() }).catch((error) => error);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/DATABASE_URL is not set/);
  });

  it("prints one line per file, then a summary", async () => {
    const database = await freshDatabase();
    const files = await repositoryMigrations();
    const first = await run(tsx, ["scripts/migrate.ts"], { cwd: ROOT, env: env(database.url) });
    expect(first.stdout.trim().split("\n")).toEqual([
      ...files.map((file) => `applied ${file}`),
      `${database.url}: ${files.length} applied, 0 already applied`,
    ]);
    const second = await run(tsx, ["scripts/migrate.ts"], { cwd: ROOT, env: env(database.url) });
    expect(second.stdout).toContain(`skipped ${files[0]} (already applied)`);
  });
});
