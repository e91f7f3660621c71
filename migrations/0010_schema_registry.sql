-- 0010 Schema registry: schemas an account publishes once and validates by name and version.
--
-- Guarantees:
--   * Versions are immutable: a version, once written, is never updated; publishing the same
--     content as the latest version returns that version instead of a new one.
--   * Isolation: every function takes the account id and touches only that account's rows; no
--     function lists or reads across accounts except the operator view `registry_overview`.
--   * Quotas (active names, stored bytes) are checked under a lock on the account row, so two
--     concurrent publishes cannot both slip under a quota.
--   * Retiring a name keeps its versions readable (audit); it only stops validation by that name
--     and new versions under it.
-- The Worker reaches these tables only through the functions below (supabase.rpc as service_role).

create table public.registered_schemas (
  account_id uuid not null references public.accounts (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
  latest_version integer not null check (latest_version >= 1),
  retired_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (account_id, name)
);

create table public.schema_versions (
  account_id uuid not null,
  name text not null,
  version integer not null check (version >= 1),
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  -- The schema as published, JSON text (jsonb would reorder keys and drop duplicate ones).
  document text not null,
  bytes integer not null check (bytes > 0),
  published_at timestamptz not null default now(),
  primary key (account_id, name, version),
  foreign key (account_id, name) references public.registered_schemas (account_id, name) on delete cascade
);

alter table public.registered_schemas enable row level security;
alter table public.schema_versions enable row level security;
revoke all on public.registered_schemas, public.schema_versions from public, anon, authenticated;

create function public.schema_version_json(v public.schema_versions, r public.registered_schemas, p_with_document boolean)
returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'name', v.name, 'version', v.version, 'latest_version', r.latest_version,
    'content_hash', v.content_hash, 'bytes', v.bytes, 'published_at', v.published_at,
    'retired_at', r.retired_at)
    || case when p_with_document then jsonb_build_object('document', v.document) else '{}'::jsonb end
$$;

-- Publishes `p_document` as the next version of `p_name`. Returns the version (with
-- 'created': false when it equals the latest one), or {'error': 'retired' | 'quota_schemas' |
-- 'quota_bytes' | 'unknown_account', ...} without writing anything.
create function public.publish_schema(
  p_account uuid, p_name text, p_document text, p_content_hash text, p_max_schemas integer, p_max_bytes bigint
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_registered public.registered_schemas;
  v_latest public.schema_versions;
  v_version public.schema_versions;
  v_names integer;
  v_bytes bigint;
  v_new_bytes integer := octet_length(p_document);
begin
  perform 1 from public.accounts a where a.id = p_account for update;
  if not found then
    return jsonb_build_object('error', 'unknown_account');
  end if;
  select * into v_registered from public.registered_schemas r
    where r.account_id = p_account and r.name = p_name;
  if found then
    if v_registered.retired_at is not null then
      return jsonb_build_object('error', 'retired', 'retired_at', v_registered.retired_at);
    end if;
    select * into v_latest from public.schema_versions v
      where v.account_id = p_account and v.name = p_name and v.version = v_registered.latest_version;
    if v_latest.content_hash = p_content_hash then
      return public.schema_version_json(v_latest, v_registered, false) || jsonb_build_object('created', false);
    end if;
  else
    select count(*) into v_names from public.registered_schemas r
      where r.account_id = p_account and r.retired_at is null;
    if v_names >= p_max_schemas then
      return jsonb_build_object('error', 'quota_schemas', 'limit', p_max_schemas, 'used', v_names);
    end if;
  end if;
  select coalesce(sum(v.bytes), 0) into v_bytes from public.schema_versions v where v.account_id = p_account;
  if v_bytes + v_new_bytes > p_max_bytes then
    return jsonb_build_object('error', 'quota_bytes', 'limit', p_max_bytes, 'used', v_bytes, 'needed', v_new_bytes);
  end if;
  if v_registered.name is null then
    insert into public.registered_schemas (account_id, name, latest_version)
      values (p_account, p_name, 1) returning * into v_registered;
  else
    update public.registered_schemas r set latest_version = r.latest_version + 1, updated_at = now()
      where r.account_id = p_account and r.name = p_name returning * into v_registered;
  end if;
  insert into public.schema_versions (account_id, name, version, content_hash, document, bytes)
    values (p_account, p_name, v_registered.latest_version, p_content_hash, p_document, v_new_bytes)
    returning * into v_version;
  return public.schema_version_json(v_version, v_registered, false) || jsonb_build_object('created', true);
end;
$$;

-- One version of one of the account's schemas, with its document; the latest when p_version is
-- null. Null when the account has no such name or version.
create function public.get_schema_version(p_account uuid, p_name text, p_version integer default null)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select public.schema_version_json(v, r, true)
  from public.registered_schemas r
  join public.schema_versions v
    on v.account_id = r.account_id and v.name = r.name and v.version = coalesce(p_version, r.latest_version)
  where r.account_id = p_account and r.name = p_name
$$;

-- What a validation by name needs first: the version a name (or name@version) stands for, its
-- content hash and whether the name is retired, without the document (fetched only on a miss).
create function public.resolve_schema(p_account uuid, p_name text, p_version integer default null)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select public.schema_version_json(v, r, false)
  from public.registered_schemas r
  join public.schema_versions v
    on v.account_id = r.account_id and v.name = r.name and v.version = coalesce(p_version, r.latest_version)
  where r.account_id = p_account and r.name = p_name
$$;

-- The account's schema names with their latest version (retired ones too, marked), by name.
create function public.list_schemas(p_account uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(public.schema_version_json(v, r, false) order by r.name), '[]'::jsonb)
  from public.registered_schemas r
  join public.schema_versions v
    on v.account_id = r.account_id and v.name = r.name and v.version = r.latest_version
  where r.account_id = p_account
$$;

-- Retires a name: no validation by it and no new versions; its versions stay readable. Null when
-- the account has no such name; retiring twice keeps the first moment.
create function public.retire_schema(p_account uuid, p_name text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_registered public.registered_schemas;
begin
  update public.registered_schemas r set retired_at = coalesce(r.retired_at, now()), updated_at = now()
    where r.account_id = p_account and r.name = p_name returning * into v_registered;
  if not found then
    return null;
  end if;
  return jsonb_build_object('name', v_registered.name, 'retired_at', v_registered.retired_at,
    'latest_version', v_registered.latest_version);
end;
$$;

-- The operator's view: per account, names (active and retired), versions and bytes stored.
create function public.registry_overview(p_limit integer default 100) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(row_to_json(t)::jsonb order by t.bytes desc), '[]'::jsonb) from (
    select r.account_id, count(distinct r.name) filter (where r.retired_at is null) as active_schemas,
      count(distinct r.name) filter (where r.retired_at is not null) as retired_schemas,
      (select count(*) from public.schema_versions v where v.account_id = r.account_id) as versions,
      (select coalesce(sum(v.bytes), 0) from public.schema_versions v where v.account_id = r.account_id) as bytes
    from public.registered_schemas r
    group by r.account_id
    order by bytes desc
    limit greatest(1, least(p_limit, 1000))
  ) t
$$;

revoke execute on function
  public.schema_version_json(public.schema_versions, public.registered_schemas, boolean),
  public.publish_schema(uuid, text, text, text, integer, bigint),
  public.get_schema_version(uuid, text, integer),
  public.resolve_schema(uuid, text, integer),
  public.list_schemas(uuid),
  public.retire_schema(uuid, text),
  public.registry_overview(integer)
from public, anon, authenticated;

grant execute on function
  public.publish_schema(uuid, text, text, text, integer, bigint),
  public.get_schema_version(uuid, text, integer),
  public.resolve_schema(uuid, text, integer),
  public.list_schemas(uuid),
  public.retire_schema(uuid, text),
  public.registry_overview(integer)
to service_role;
