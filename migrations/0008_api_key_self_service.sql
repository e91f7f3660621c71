-- 0008 API keys on every call, and keys managed by their customers.
--
-- * `expires_at`: a key may expire (chosen at creation, or set by a roll's overlap); an expired key
--   is refused like a revoked one, but says so. `replaced_by`: the key a roll created in its place.
-- * `resolve_api_key`: the one lookup of a key hash, for POST /v1/token and for the hot path when
--   Redis does not know the key yet (it then caches the answer, see src/access/api-key-cache.ts).
--   It reports revoked and expired keys too (with their account), so the caller can say which.
--   It touches `last_used_at` for a usable key: that is when last_used_at moves (a token exchange,
--   or a Redis miss, at most about once an hour per key in use), so it is accurate to about an hour.
-- * Self-service (`*_account_api_key`, `roll_api_key`): each locks the account's row, so two
--   concurrent calls cannot both pass a check (the key cap, the last-key rule) that only one may.
--   The last-key rule: an account keeps at least one unrevoked key without an expiry, so it always
--   has a way in. Sign-up creates one; a roll replaces one with a new one in the same transaction.
-- * `billing_edge_state` also carries the account's Stripe customer, so a key (or token) resolved
--   before the first checkout bills the customer as soon as the checkout's webhook arrives.

alter table public.api_keys
  add column expires_at timestamptz,
  add column replaced_by uuid references public.api_keys (id) on delete set null;

-- One key as listings show it (never its hash).
create function public.api_key_json(k public.api_keys) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'key_id', k.id, 'key_prefix', k.prefix, 'name', k.name, 'created_at', k.created_at,
    'expires_at', k.expires_at, 'last_used_at', k.last_used_at, 'revoked_at', k.revoked_at,
    'replaced_by', k.replaced_by)
$$;

-- The key behind a hash with its account, whatever its state; null for an unknown hash.
create function public.resolve_api_key(p_key_hash text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
  v_account public.accounts;
begin
  update public.api_keys k set last_used_at = now()
    where k.key_hash = p_key_hash and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())
    returning * into v_key;
  if not found then
    select * into v_key from public.api_keys k where k.key_hash = p_key_hash;
    if not found then return null; end if;
  end if;
  select * into v_account from public.accounts a where a.id = v_key.account_id;
  return public.account_json(v_account) || jsonb_build_object('key_id', v_key.id, 'key_prefix', v_key.prefix,
    'key_revoked_at', v_key.revoked_at, 'key_expires_at', v_key.expires_at);
end
$$;

-- An expired key mints no token either (the Worker now uses resolve_api_key; kept for older callers).
create or replace function public.exchange_api_key(p_key_hash text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
  v_account public.accounts;
begin
  update public.api_keys k set last_used_at = now()
    where k.key_hash = p_key_hash and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())
    returning * into v_key;
  if not found then return null; end if;
  select * into v_account from public.accounts a where a.id = v_key.account_id;
  return public.account_json(v_account) || jsonb_build_object('key_id', v_key.id, 'key_prefix', v_key.prefix);
end
$$;

-- The operator's revocation (any account, by id or prefix) also returns the hash, so the Worker
-- or the CLI can mark the key revoked in Redis at once.
create or replace function public.revoke_api_key(p_key text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
begin
  update public.api_keys k set revoked_at = coalesce(k.revoked_at, now())
    where k.prefix = p_key or k.id::text = p_key
    returning * into v_key;
  if not found then return null; end if;
  return jsonb_build_object('key_id', v_key.id, 'key_prefix', v_key.prefix, 'account_id', v_key.account_id,
    'revoked_at', v_key.revoked_at, 'key_hash', v_key.key_hash);
end
$$;

-- Keys (never hashes), newest first; every account's when p_account is null. Now with expiry.
create or replace function public.list_api_keys(p_account text default null) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(public.api_key_json(k) || jsonb_build_object(
      'account_id', a.id, 'email', a.email, 'tier', a.tier, 'status', a.status)
      order by k.created_at desc, k.id), '[]'::jsonb)
  from public.api_keys k join public.accounts a on a.id = k.account_id
  where p_account is null or a.email = lower(btrim(p_account)) or a.id::text = p_account
$$;

-- A new key for an account, unless it already has p_max_active usable keys:
-- {"key": {...}, "tier", "customer"} (the account's, for the hot path's entry) or
-- {"refused": "API_KEY_LIMIT_REACHED"}; null when the account does not exist.
create function public.create_account_api_key(
  p_account_id uuid, p_key_prefix text, p_key_hash text, p_name text, p_expires_at timestamptz, p_max_active integer
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
  v_account public.accounts;
begin
  select * into v_account from public.accounts a where a.id = p_account_id for update;
  if not found then return null; end if;
  if (select count(*) from public.api_keys k where k.account_id = p_account_id and k.revoked_at is null
      and (k.expires_at is null or k.expires_at > now())) >= p_max_active then
    return jsonb_build_object('refused', 'API_KEY_LIMIT_REACHED');
  end if;
  insert into public.api_keys (account_id, name, prefix, key_hash, expires_at)
    values (p_account_id, p_name, p_key_prefix, p_key_hash, p_expires_at) returning * into v_key;
  return jsonb_build_object('key', public.api_key_json(v_key), 'tier', v_account.tier,
    'customer', v_account.stripe_customer_id);
end
$$;

-- Revokes one of the account's keys (by id or prefix): {"key": {...}, "key_hash": ...}, or
-- {"refused": "API_KEY_LAST_ACTIVE"} when it is the account's last unrevoked key without an expiry;
-- null when the account has no such key. Revoking a revoked key again changes nothing.
create function public.revoke_account_api_key(p_account_id uuid, p_key text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_key public.api_keys;
begin
  perform 1 from public.accounts a where a.id = p_account_id for update;
  select * into v_key from public.api_keys k
    where k.account_id = p_account_id and (k.id::text = p_key or k.prefix = p_key);
  if not found then return null; end if;
  if v_key.revoked_at is null and v_key.expires_at is null and not exists (
      select 1 from public.api_keys k where k.account_id = p_account_id and k.id <> v_key.id
        and k.revoked_at is null and k.expires_at is null) then
    return jsonb_build_object('refused', 'API_KEY_LAST_ACTIVE');
  end if;
  update public.api_keys k set revoked_at = coalesce(k.revoked_at, now()) where k.id = v_key.id
    returning * into v_key;
  return jsonb_build_object('key', public.api_key_json(v_key), 'key_hash', v_key.key_hash);
end
$$;

-- Rolls one of the account's usable keys: a new key with the same name (and p_expires_at) takes
-- its place; the old one stays valid for p_overlap_seconds (never longer than it already was),
-- or is revoked now when the overlap is 0. {"old": {...}, "old_key_hash": ..., "key": {...},
-- "tier", "customer"}; null when the account has no such usable key.
create function public.roll_api_key(
  p_account_id uuid, p_key text, p_key_prefix text, p_key_hash text, p_overlap_seconds integer,
  p_expires_at timestamptz
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_old public.api_keys;
  v_new public.api_keys;
  v_account public.accounts;
  v_until timestamptz := now() + make_interval(secs => greatest(p_overlap_seconds, 0));
begin
  select * into v_account from public.accounts a where a.id = p_account_id for update;
  select * into v_old from public.api_keys k
    where k.account_id = p_account_id and (k.id::text = p_key or k.prefix = p_key)
      and k.revoked_at is null and (k.expires_at is null or k.expires_at > now());
  if not found then return null; end if;
  insert into public.api_keys (account_id, name, prefix, key_hash, expires_at)
    values (p_account_id, v_old.name, p_key_prefix, p_key_hash, p_expires_at) returning * into v_new;
  update public.api_keys k set replaced_by = v_new.id,
      revoked_at = case when p_overlap_seconds <= 0 then now() else null end,
      expires_at = case when p_overlap_seconds <= 0 then k.expires_at
                        else least(coalesce(k.expires_at, v_until), v_until) end
    where k.id = v_old.id returning * into v_old;
  return jsonb_build_object('old', public.api_key_json(v_old), 'old_key_hash', v_old.key_hash,
    'key', public.api_key_json(v_new), 'tier', v_account.tier, 'customer', v_account.stripe_customer_id);
end
$$;

create or replace function public.billing_edge_state(p_account_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'account_id', a.id,
    'tier', a.tier,
    'customer', a.stripe_customer_id,
    'deny', a.status in ('suspended', 'closed')
      or (a.status = 'past_due' and (a.grace_until is null or a.grace_until <= now())),
    'version', a.billing_version)
  from public.accounts a where a.id = p_account_id
$$;

revoke all on function
  public.api_key_json(public.api_keys),
  public.resolve_api_key(text),
  public.create_account_api_key(uuid, text, text, text, timestamptz, integer),
  public.revoke_account_api_key(uuid, text),
  public.roll_api_key(uuid, text, text, text, integer, timestamptz)
from public, anon, authenticated;

grant execute on function
  public.resolve_api_key(text),
  public.create_account_api_key(uuid, text, text, text, timestamptz, integer),
  public.revoke_account_api_key(uuid, text),
  public.roll_api_key(uuid, text, text, text, integer, timestamptz)
to service_role;
