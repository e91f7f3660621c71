-- 0013 The customer console (GET /console): one-time sign-in links sent by e-mail, and browser
-- sessions. Numbered 0013 so the branches that add 0011 and 0012 (quotas, faults) merge cleanly.
--
-- * Secrets are never stored: a link's token and a session's cookie value are random 256-bit
--   strings the Worker hashes (SHA-256) before calling these functions; only the hash is here.
-- * A sign-in link is single-use and short-lived: `console_use_sign_in_link` marks it used in the
--   same statement that reads it (UPDATE … WHERE used_at IS NULL AND expires_at > now()), so two
--   clicks racing each other cannot both sign in. Opening it proves the e-mail is the customer's.
-- * At most 5 unused, unexpired links per account at once (an e-mail flood costs the customer's
--   inbox and our Resend quota); the Worker also limits requests per client IP.
-- * Sign-out everywhere ends every session of the account at once (`console_end_sessions`).

create table public.console_sign_in_links (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  account_id uuid not null references public.accounts (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index console_sign_in_links_account_idx on public.console_sign_in_links (account_id, created_at);

create table public.console_sessions (
  session_hash text primary key check (session_hash ~ '^[0-9a-f]{64}$'),
  account_id uuid not null references public.accounts (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ended_at timestamptz
);
create index console_sessions_account_idx on public.console_sessions (account_id) where ended_at is null;

alter table public.console_sign_in_links enable row level security;
alter table public.console_sessions enable row level security;
revoke all on public.console_sign_in_links, public.console_sessions from public, anon, authenticated;

-- A link for the account with this e-mail. Returns {"account_id", "email"}; {"refused":
-- "TOO_MANY_LINKS"} past 5 live links; null when no account has that e-mail (the Worker answers
-- the same either way, so the form does not tell who has an account).
create function public.console_create_sign_in_link(p_email text, p_token_hash text, p_ttl_seconds integer)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_account public.accounts;
  v_live integer;
begin
  select * into v_account from public.accounts a where a.email = lower(btrim(p_email)) for update;
  if not found then return null; end if;
  delete from public.console_sign_in_links l
    where l.account_id = v_account.id and l.expires_at < now() - interval '1 day';
  select count(*) into v_live from public.console_sign_in_links l
    where l.account_id = v_account.id and l.used_at is null and l.expires_at > now();
  if v_live >= 5 then return jsonb_build_object('refused', 'TOO_MANY_LINKS'); end if;
  insert into public.console_sign_in_links (token_hash, account_id, expires_at)
    values (p_token_hash, v_account.id, now() + make_interval(secs => p_ttl_seconds));
  return jsonb_build_object('account_id', v_account.id, 'email', v_account.email);
end
$$;

-- Uses a link once: the account it signs in, or null (unknown, used or expired).
create function public.console_use_sign_in_link(p_token_hash text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_link public.console_sign_in_links;
begin
  update public.console_sign_in_links l set used_at = now()
    where l.token_hash = p_token_hash and l.used_at is null and l.expires_at > now()
    returning * into v_link;
  if not found then return null; end if;
  return jsonb_build_object('account_id', v_link.account_id);
end
$$;

create function public.console_start_session(p_account_id uuid, p_session_hash text, p_ttl_seconds integer)
returns jsonb
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.console_sessions (session_hash, account_id, expires_at)
    values (p_session_hash, p_account_id, now() + make_interval(secs => p_ttl_seconds));
  return jsonb_build_object('account_id', p_account_id);
end
$$;

-- The session's account, or null (unknown, ended or expired).
create function public.console_resolve_session(p_session_hash text) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object('account_id', s.account_id, 'expires_at', s.expires_at)
  from public.console_sessions s
  where s.session_hash = p_session_hash and s.ended_at is null and s.expires_at > now()
$$;

-- Ends one session (p_everywhere false) or every session of its account. Returns how many ended.
create function public.console_end_sessions(p_session_hash text, p_everywhere boolean) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  v_account uuid;
  v_ended integer;
begin
  select s.account_id into v_account from public.console_sessions s where s.session_hash = p_session_hash;
  if not found then return 0; end if;
  update public.console_sessions s set ended_at = now()
    where s.ended_at is null
      and (case when p_everywhere then s.account_id = v_account else s.session_hash = p_session_hash end);
  get diagnostics v_ended = row_count;
  return v_ended;
end
$$;

-- Units per UTC day or hour for the account's paid usage, from the billing ledger (GET /v1/usage
-- and the console). Free-tier usage never reaches the ledger; rows arrive once the flusher has
-- moved them, about a minute behind. Compensations are netted (they carry negative units).
create function public.usage_history(p_account_id uuid, p_from timestamptz, p_to timestamptz, p_granularity text)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object('start', b.start, 'units', b.units) order by b.start), '[]'::jsonb)
  from (
    select to_char(date_trunc(p_granularity, l.occurred_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as start,
           sum(l.units)::bigint as units
    from public.usage_ledger l
    where p_granularity in ('day', 'hour')
      and l.subject = p_account_id::text and l.occurred_at >= p_from and l.occurred_at < p_to
    group by 1
  ) b
$$;

revoke all on function public.console_create_sign_in_link(text, text, integer),
  public.console_use_sign_in_link(text), public.console_start_session(uuid, text, integer),
  public.console_resolve_session(text), public.console_end_sessions(text, boolean),
  public.usage_history(uuid, timestamptz, timestamptz, text)
  from public, anon, authenticated;

grant execute on function public.console_create_sign_in_link(text, text, integer),
  public.console_use_sign_in_link(text), public.console_start_session(uuid, text, integer),
  public.console_resolve_session(text), public.console_end_sessions(text, boolean),
  public.usage_history(uuid, timestamptz, timestamptz, text)
  to service_role;
