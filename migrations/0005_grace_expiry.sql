-- 0005 Grace expiry: a past-due account whose grace period has ended is denied at the edge by the
-- next cron run, not only at the next Stripe event.
--
-- Why: `billing_edge_state` computes `deny` at the time it is read, so Postgres refuses new tokens
-- the moment `grace_until` passes, but Redis (read by the hot path) only hears about it when
-- something writes the edge state. Nothing happens at the moment the grace ends, so the cron run
-- (every minute) looks for such accounts and writes their state with the same versioned script as
-- the webhook path.
--
-- Guarantees:
--   * Ordering. `billing_expire_grace` bumps `billing_version` in the transaction that decides the
--     account is now denied (the edge state did change: `deny` went from false to true). A state
--     read before that (e.g. a webhook whose Redis write is still in flight, deny=false) therefore
--     has an older version and can never overwrite the denial, and any event after it gets a newer
--     version, so the cron's write can never overwrite a later webhook's (e.g. `invoice.paid`).
--     The account row is locked (FOR UPDATE SKIP LOCKED): a webhook transaction holding it is left
--     alone; that webhook writes the current state itself and the account is looked at next run.
--   * Idempotent and retried. `grace_denied_version` records the version whose denial Redis has
--     acknowledged (`billing_confirm_grace_denied`, called after the Redis write). An account is
--     picked again only while that differs from `billing_version`: a Redis failure between the two
--     calls leaves it unconfirmed and the next run bumps and writes again (harmless: the write is
--     versioned and idempotent); once confirmed it is not touched again until billing changes it.
--   * Bounded: at most p_limit accounts per call, oldest grace end first; the rest wait a minute.

alter table public.accounts
  -- The billing_version whose denied edge state (grace ended) Redis has acknowledged; see above.
  add column grace_denied_version bigint;

create index accounts_past_due_grace_idx on public.accounts (grace_until) where status = 'past_due';

-- Past-due accounts whose grace has ended and whose denial Redis has not acknowledged yet: bumps
-- each one's billing_version and returns their edge states ([{account_id, tier, deny, version}],
-- from `billing_edge_state`, so `deny` means exactly what the webhook path means by it).
create function public.billing_expire_grace(p_limit integer default 100) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_ids uuid[];
begin
  with due as (
    select a.id from public.accounts a
    where a.status = 'past_due' and (a.grace_until is null or a.grace_until <= now())
      and a.grace_denied_version is distinct from a.billing_version
    order by a.grace_until nulls first, a.id
    limit greatest(1, least(coalesce(p_limit, 100), 1000))
    for update skip locked
  ), bumped as (
    update public.accounts a set billing_version = a.billing_version + 1, updated_at = now()
      from due d where a.id = d.id
    returning a.id
  )
  select coalesce(array_agg(b.id), '{}') into v_ids from bumped b;

  return coalesce((
    select jsonb_agg(public.billing_edge_state(u.id) order by u.id) from unnest(v_ids) as u(id)),
    '[]'::jsonb);
end
$$;

-- Records that Redis holds the denial of these versions: p_states [{account_id, version}]. Only
-- where the account is still at that version (a newer change will be looked at on its own).
-- Returns the number of accounts confirmed.
create function public.billing_confirm_grace_denied(p_states jsonb) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  v_count integer;
begin
  update public.accounts a set grace_denied_version = s.version
    from jsonb_to_recordset(p_states) as s(account_id uuid, version bigint)
    where a.id = s.account_id and a.billing_version = s.version;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

revoke all on function
  public.billing_expire_grace(integer),
  public.billing_confirm_grace_denied(jsonb)
from public, anon, authenticated;

grant execute on function
  public.billing_expire_grace(integer),
  public.billing_confirm_grace_denied(jsonb)
to service_role;
