-- 0002 Access: accounts, API keys and the durable record of usage served while Redis was down.
--
-- The Worker reaches these tables only through the functions below (supabase.rpc as service_role);
-- no role but the migration owner touches the tables directly. Every function is SECURITY DEFINER
-- with an empty search_path and schema-qualified names, so a caller cannot redirect it.
--
-- API keys are never stored: only their SHA-256 (hex) and a short visible prefix for listings.
-- Hashing happens in the caller, so the plain key never reaches Postgres or its logs.

create table public.accounts (
  id uuid primary key default gen_random_uuid(),
  email text not null check (email = lower(btrim(email)) and email like '%_@_%'),
  stripe_customer_id text unique,
  tier text not null default 'free' check (tier ~ '^[a-z0-9_-]{1,32}$'),
  status text not null default 'active' check (status in ('active', 'past_due', 'suspended', 'closed')),
  -- While past_due, tokens are still issued until this moment.
  grace_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index accounts_email_key on public.accounts (email);

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade,
  name text not null default 'default' check (length(name) between 1 and 64),
  -- The visible start of the key (e.g. `sm_3f9a1c2b`), shown in listings so a key can be recognised.
  prefix text not null unique check (prefix ~ '^sm_[a-z0-9]{8,16}$'),
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_account_idx on public.api_keys (account_id);

-- Usage served while Redis was unreachable (fail-open), or compensations that could not reach Redis.
-- (id, kind) is the usage record's identity: inserting twice is a no-op, and the replay into the
-- usage stream carries the same id, so the flusher's ledger (keyed by id and kind) bills it once.
create table public.pending_usage (
  id text not null check (length(id) between 8 and 64),
  kind text not null check (kind in ('admit', 'compensate')),
  request_id text not null,
  subject text not null,
  stripe_customer_id text,
  tier text not null,
  units integer not null check (units <> 0),
  occurred_at timestamptz not null,
  recorded_at timestamptz not null default now(),
  -- A replayer holds rows until this moment; a crashed replayer's rows become claimable again.
  claimed_until timestamptz,
  replayed_at timestamptz,
  primary key (id, kind)
);
create index pending_usage_unreplayed_idx on public.pending_usage (recorded_at) where replayed_at is null;

alter table public.accounts enable row level security;
alter table public.api_keys enable row level security;
alter table public.pending_usage enable row level security;
revoke all on public.accounts, public.api_keys, public.pending_usage from public, anon, authenticated;

-- One account as the API and the operator scripts see it.
create function public.account_json(a public.accounts) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', a.id, 'email', a.email, 'stripe_customer_id', a.stripe_customer_id, 'tier', a.tier,
    'status', a.status, 'grace_until', a.grace_until, 'created_at', a.created_at)
$$;

-- A new account with its first API key, atomically. A taken email raises unique_violation (23505),
-- which PostgREST answers with 409.
create function public.create_account(
  p_email text, p_key_prefix text, p_key_hash text, p_tier text default 'free', p_key_name text default 'default'
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_account public.accounts;
  v_key_id uuid;
begin
  insert into public.accounts (email, tier) values (lower(btrim(p_email)), p_tier) returning * into v_account;
  insert into public.api_keys (account_id, name, prefix, key_hash)
    values (v_account.id, p_key_name, p_key_prefix, p_key_hash) returning id into v_key_id;
  return public.account_json(v_account) || jsonb_build_object('key_id', v_key_id, 'key_prefix', p_key_prefix);
end
$$;

-- Another key for an existing account (by id or email). Null when the account does not exist.
create function public.create_api_key(p_account text, p_key_prefix text, p_key_hash text, p_key_name text default 'default')
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_account public.accounts;
  v_key_id uuid;
begin
  select * into v_account from public.accounts a
    where a.email = lower(btrim(p_account)) or a.id::text = p_account;
  if not found then return null; end if;
  insert into public.api_keys (account_id, name, prefix, key_hash)
    values (v_account.id, p_key_name, p_key_prefix, p_key_hash) returning id into v_key_id;
  return public.account_json(v_account) || jsonb_build_object('key_id', v_key_id, 'key_prefix', p_key_prefix);
end
$$;

-- The account behind a key hash, for POST /v1/token; null for an unknown or revoked key. The
-- caller decides what the account status allows. Touches last_used_at (one row, by primary key).
create function public.exchange_api_key(p_key_hash text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
  v_account public.accounts;
begin
  update public.api_keys k set last_used_at = now()
    where k.key_hash = p_key_hash and k.revoked_at is null
    returning * into v_key;
  if not found then return null; end if;
  select * into v_account from public.accounts a where a.id = v_key.account_id;
  return public.account_json(v_account) || jsonb_build_object('key_id', v_key.id, 'key_prefix', v_key.prefix);
end
$$;

-- Revokes a key by id or visible prefix. Idempotent: revoking twice keeps the first timestamp.
-- Null when no such key exists.
create function public.revoke_api_key(p_key text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
begin
  update public.api_keys k set revoked_at = coalesce(k.revoked_at, now())
    where k.prefix = p_key or k.id::text = p_key
    returning * into v_key;
  if not found then return null; end if;
  return jsonb_build_object('key_id', v_key.id, 'key_prefix', v_key.prefix, 'account_id', v_key.account_id,
    'revoked_at', v_key.revoked_at);
end
$$;

-- Keys (never hashes), newest first; every account's when p_account is null.
create function public.list_api_keys(p_account text default null) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
      'key_id', k.id, 'key_prefix', k.prefix, 'name', k.name, 'account_id', a.id, 'email', a.email,
      'tier', a.tier, 'status', a.status, 'created_at', k.created_at, 'last_used_at', k.last_used_at,
      'revoked_at', k.revoked_at) order by k.created_at desc), '[]'::jsonb)
  from public.api_keys k join public.accounts a on a.id = k.account_id
  where p_account is null or a.email = lower(btrim(p_account)) or a.id::text = p_account
$$;

create function public.get_account(p_account_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select public.account_json(a) from public.accounts a where a.id = p_account_id
$$;

-- Records one usage record durably. Idempotent on (id, kind): a retried call changes nothing.
-- Returns true when this call inserted it.
create function public.record_pending_usage(
  p_id text, p_kind text, p_request_id text, p_subject text, p_stripe_customer_id text, p_tier text,
  p_units integer, p_occurred_at timestamptz
) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.pending_usage (id, kind, request_id, subject, stripe_customer_id, tier, units, occurred_at)
    values (p_id, p_kind, p_request_id, p_subject, p_stripe_customer_id, p_tier, p_units, p_occurred_at)
    on conflict (id, kind) do nothing;
  return found;
end
$$;

-- Leases up to p_limit unreplayed records for p_lease_seconds, oldest first. Concurrent replayers
-- never get the same row (SKIP LOCKED plus the lease); a crashed replayer's lease simply runs out.
create function public.claim_pending_usage(p_limit integer default 100, p_lease_seconds integer default 60)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_rows jsonb;
begin
  with claimable as (
    select p.id, p.kind from public.pending_usage p
    where p.replayed_at is null and (p.claimed_until is null or p.claimed_until < now())
    order by p.recorded_at
    limit greatest(1, least(p_limit, 1000))
    for update skip locked
  ), claimed as (
    update public.pending_usage p set claimed_until = now() + make_interval(secs => p_lease_seconds)
    from claimable c where p.id = c.id and p.kind = c.kind
    returning p.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', c.id, 'kind', c.kind, 'request_id', c.request_id, 'subject', c.subject,
      'stripe_customer_id', c.stripe_customer_id, 'tier', c.tier, 'units', c.units,
      'occurred_at', c.occurred_at) order by c.recorded_at), '[]'::jsonb)
  into v_rows from claimed c;
  return v_rows;
end
$$;

-- Marks records as replayed into the usage stream. p_records: [{"id": ..., "kind": ...}, ...].
create function public.mark_pending_usage_replayed(p_records jsonb) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  v_count integer;
begin
  update public.pending_usage p set replayed_at = now(), claimed_until = null
    from jsonb_to_recordset(p_records) as r(id text, kind text)
    where p.id = r.id and p.kind = r.kind and p.replayed_at is null;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- Counts for readiness and reconciliation: how much usage still waits for replay.
create function public.pending_usage_backlog() returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object('records', count(*), 'units', coalesce(sum(units), 0),
    'oldest', min(recorded_at))
  from public.pending_usage where replayed_at is null
$$;

revoke all on function
  public.account_json(public.accounts),
  public.create_account(text, text, text, text, text),
  public.create_api_key(text, text, text, text),
  public.exchange_api_key(text),
  public.revoke_api_key(text),
  public.list_api_keys(text),
  public.get_account(uuid),
  public.record_pending_usage(text, text, text, text, text, text, integer, timestamptz),
  public.claim_pending_usage(integer, integer),
  public.mark_pending_usage_replayed(jsonb),
  public.pending_usage_backlog()
from public, anon, authenticated;

grant execute on function
  public.create_account(text, text, text, text, text),
  public.create_api_key(text, text, text, text),
  public.exchange_api_key(text),
  public.revoke_api_key(text),
  public.list_api_keys(text),
  public.get_account(uuid),
  public.record_pending_usage(text, text, text, text, text, text, integer, timestamptz),
  public.claim_pending_usage(integer, integer),
  public.mark_pending_usage_replayed(jsonb),
  public.pending_usage_backlog()
to service_role;
