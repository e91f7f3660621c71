-- 0001_foundation: who may call what, and the readiness probe.
--
-- Guarantees:
--   * The Worker reaches Postgres only through `supabase.rpc()` with the service role key, so
--     `service_role` may use schema public and execute its functions.
--   * Every function later migrations create in public (as the migrating role) is executable by
--     `service_role` only: not by PUBLIC, `anon` or `authenticated`, whose keys could otherwise
--     call billing functions through the public REST endpoint. A function meant for them must be
--     granted explicitly.
--   * Tables and sequences later migrations create in public are reachable by `service_role`
--     (which the functions run as) and not by `anon`/`authenticated`, overriding Supabase's
--     defaults that expose new public tables to its API roles.
--   * `public.health_check()` answers without touching any table, for the API's readiness probe.
-- The roles themselves are created by the migration runner when absent (Supabase has them).

grant usage on schema public to service_role;

-- PUBLIC's execute right on new functions is a global default: it can only be revoked globally.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;
alter default privileges in schema public grant execute on functions to service_role;

alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public grant select, insert, update, delete on tables to service_role;
alter default privileges in schema public grant usage, select, update on sequences to service_role;

-- Functions that already exist in public follow the same rule.
revoke execute on all functions in schema public from public, anon, authenticated;
grant execute on all functions in schema public to service_role;

-- Readiness: proves a round trip through PostgREST to Postgres works; `now` is UTC, ISO 8601.
create or replace function public.health_check()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'ok', true,
    'now', to_char(pg_catalog.now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  );
$$;

revoke execute on function public.health_check() from public, anon, authenticated;
grant execute on function public.health_check() to service_role;

comment on function public.health_check() is
  'Readiness probe: {"ok": true, "now": "<UTC ISO 8601>"}. Executable by service_role only.';
