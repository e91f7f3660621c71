-- 0015 Dunning e-mails: an outbox of notices to customers whose payment failed, written in the
-- same transaction as the Stripe event that calls for them, and sent after the commit by the
-- Worker (src/billing/dunning.ts has the sending rules; src/billing/dunning-outbox.ts calls these).
--
-- Guarantees:
--   * Exactly once per event. `apply_stripe_event_with_notices` runs `apply_stripe_event` (0004)
--     and records the notice in one transaction: a repeated delivery is a duplicate there and adds
--     nothing here; a rolled-back event leaves no notice. The notice's key is the event id (the
--     reminder's: account and grace end), so a second insert of the same key is a no-op.
--   * Only what is true is told. A failure notice is recorded only when the event was applied (not
--     stale: an older failure delivered after a later payment says nothing) and left the account
--     past due; a recovery notice only when a paid invoice leaves the account active after a failure
--     notice that no recovery has answered yet. At send time a failure or reminder older than the
--     account's latest recovery is superseded, never sent (out-of-order deliveries).
--   * Sent at least once by the Worker, delivered once by Resend: each attempt carries the same
--     Idempotency-Key (`dunning:<key>`). `dunning_claim_notices` leases what it returns
--     (FOR UPDATE SKIP LOCKED, next_attempt_at moved past the lease), so the webhook's `waitUntil`
--     and the cron run never send one notice at the same time; a sender that dies mid-send leaves
--     the notice to the next run once the lease ends.
--   * A notice the provider keeps refusing becomes `dead` after the Worker's last attempt and
--     stays for the operator (GET /admin/metrics counts them; docs/deploy.md says how to resend).

create table public.dunning_notices (
  key text primary key check (length(key) between 1 and 255),
  kind text not null check (kind in ('payment_failed', 'grace_reminder', 'payment_recovered')),
  account_id uuid not null references public.accounts (id) on delete cascade,
  email text not null,
  -- When what the notice tells happened: the Stripe event's `created`, or the reminder's cron run.
  occurred_at timestamptz not null,
  grace_until timestamptz,
  status text not null default 'pending' check (status in ('pending', 'sent', 'superseded', 'dead')),
  attempts integer not null default 0,
  -- A new notice is due at once whatever the sender's clock says ('-infinity': the Worker's clock
  -- may run a little behind the database's); a claim or a failure moves it on.
  next_attempt_at timestamptz not null default '-infinity',
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index dunning_notices_due_idx on public.dunning_notices (next_attempt_at) where status = 'pending';
create index dunning_notices_account_idx on public.dunning_notices (account_id, kind, occurred_at);

alter table public.dunning_notices enable row level security;
revoke all on public.dunning_notices from public, anon, authenticated;

-- Records a notice unless its key is there; true when added. Also used by the reminder run.
create function public.dunning_add_notice(p_notice jsonb) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.dunning_notices (key, kind, account_id, email, occurred_at, grace_until)
    values (p_notice->>'key', p_notice->>'kind', (p_notice->>'account_id')::uuid, p_notice->>'email',
      (p_notice->>'occurred_at')::timestamptz, (p_notice->>'grace_until')::timestamptz)
    on conflict (key) do nothing;
  return found;
end
$$;

-- `apply_stripe_event`, plus the dunning notice the event calls for, in the same transaction.
-- Returns apply_stripe_event's answer with `notice`: the kind recorded, or null.
create function public.apply_stripe_event_with_notices(
  p_event jsonb, p_grace_seconds integer default 259200, p_on_subscription_deleted text default 'downgrade'
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_result jsonb := public.apply_stripe_event(p_event, p_grace_seconds, p_on_subscription_deleted);
  v_account public.accounts;
  v_at timestamptz := to_timestamp((p_event->>'created')::bigint);
  v_kind text;
begin
  if (v_result->>'duplicate')::boolean or v_result->>'outcome' <> 'applied'
      or v_result->>'account_id' is null
      or p_event->>'type' not in ('invoice.payment_failed', 'invoice.paid') then
    return v_result || jsonb_build_object('notice', null);
  end if;
  -- apply_stripe_event holds this account's row lock until the commit: the state read is its own.
  select * into v_account from public.accounts a where a.id = (v_result->>'account_id')::uuid;
  if p_event->>'type' = 'invoice.payment_failed' and v_account.status = 'past_due' then
    v_kind := 'payment_failed';
  elsif p_event->>'type' = 'invoice.paid' and v_account.status = 'active' and exists (
      select 1 from public.dunning_notices f
      where f.account_id = v_account.id and f.kind = 'payment_failed' and f.occurred_at <= v_at
        and not exists (
          select 1 from public.dunning_notices r
          where r.account_id = v_account.id and r.kind = 'payment_recovered'
            and r.occurred_at >= f.occurred_at)) then
    v_kind := 'payment_recovered';
  end if;
  if v_kind is not null then
    insert into public.dunning_notices (key, kind, account_id, email, occurred_at, grace_until)
      values (p_event->>'id', v_kind, v_account.id, v_account.email, v_at,
        case when v_kind = 'payment_failed' then v_account.grace_until end)
      on conflict (key) do nothing;
  end if;
  return v_result || jsonb_build_object('notice', v_kind);
end
$$;

-- Past-due accounts whose grace ends within p_within_seconds of p_now (and has not ended) with no
-- reminder for that grace end yet: [{account_id, email, grace_until, since}], soonest first.
-- `since` is when the arrears began (the latest failure notice; p_now without one): the reminder
-- is dated then, so any payment made after the failure supersedes it, even one whose event was
-- raised before this run and delivered after it.
create function public.dunning_reminders_due(p_now timestamptz, p_within_seconds integer, p_limit integer default 100)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object('account_id', d.id, 'email', d.email,
      'grace_until', d.grace_until,
      'since', coalesce((select max(f.occurred_at) from public.dunning_notices f
                         where f.account_id = d.id and f.kind = 'payment_failed'), p_now))
    order by d.grace_until, d.id), '[]'::jsonb)
  from (
    select a.id, a.email, a.grace_until from public.accounts a
    where a.status = 'past_due' and a.grace_until > p_now
      and a.grace_until <= p_now + make_interval(secs => p_within_seconds)
      and not exists (
        select 1 from public.dunning_notices n
        where n.account_id = a.id and n.kind = 'grace_reminder' and n.grace_until = a.grace_until)
    order by a.grace_until, a.id
    limit greatest(1, least(coalesce(p_limit, 100), 1000))
  ) d
$$;

-- Leases the pending notices due at p_now (oldest first, at most p_limit) for p_lease_seconds and
-- returns them: [{key, kind, account_id, email, occurred_at, grace_until, attempts}].
create function public.dunning_claim_notices(p_now timestamptz, p_limit integer, p_lease_seconds integer)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_claimed jsonb;
begin
  with due as (
    select n.key from public.dunning_notices n
    where n.status = 'pending' and n.next_attempt_at <= p_now
    order by n.occurred_at, n.key
    limit greatest(1, least(coalesce(p_limit, 20), 500))
    for update skip locked
  ), leased as (
    update public.dunning_notices n set next_attempt_at = p_now + make_interval(secs => p_lease_seconds)
      from due d where n.key = d.key
    returning n.*
  )
  select coalesce(jsonb_agg(jsonb_build_object('key', l.key, 'kind', l.kind, 'account_id', l.account_id,
      'email', l.email, 'occurred_at', l.occurred_at, 'grace_until', l.grace_until,
      'attempts', l.attempts) order by l.occurred_at, l.key), '[]'::jsonb)
    into v_claimed from leased l;
  return v_claimed;
end
$$;

-- When the account's latest recovery notice happened (null: none).
create function public.dunning_latest_recovery(p_account_id uuid) returns timestamptz
language sql stable security definer set search_path = '' as $$
  select max(n.occurred_at) from public.dunning_notices n
  where n.account_id = p_account_id and n.kind = 'payment_recovered'
$$;

-- The outcome of one send: p_outcome 'sent', 'superseded' or 'failed' (with p_next_attempt_at,
-- null when given up: the notice is then dead, and p_error says why). Only a pending notice moves.
create function public.dunning_settle_notice(
  p_key text, p_outcome text, p_at timestamptz, p_next_attempt_at timestamptz default null, p_error text default null
) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  if p_outcome not in ('sent', 'superseded', 'failed') then
    raise exception 'p_outcome must be sent, superseded or failed' using errcode = '22023';
  end if;
  update public.dunning_notices n set
      status = case p_outcome when 'failed' then case when p_next_attempt_at is null then 'dead' else 'pending' end
                              else p_outcome end,
      sent_at = case when p_outcome = 'sent' then p_at end,
      attempts = n.attempts + case when p_outcome = 'failed' then 1 else 0 end,
      next_attempt_at = coalesce(p_next_attempt_at, n.next_attempt_at),
      last_error = case when p_outcome = 'failed' then left(p_error, 500) else n.last_error end
    where n.key = p_key and n.status = 'pending';
  return found;
end
$$;

-- For GET /admin/metrics: notices waiting (and the oldest's age), dead ones, sent in the last day.
create function public.dunning_outbox_summary() returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'pending', count(*) filter (where n.status = 'pending'),
    'oldest_pending_at', min(n.created_at) filter (where n.status = 'pending'),
    'dead', count(*) filter (where n.status = 'dead'),
    'sent_last_24_hours', count(*) filter (where n.status = 'sent' and n.sent_at > now() - interval '1 day'))
  from public.dunning_notices n
$$;

revoke all on function
  public.dunning_add_notice(jsonb),
  public.apply_stripe_event_with_notices(jsonb, integer, text),
  public.dunning_reminders_due(timestamptz, integer, integer),
  public.dunning_claim_notices(timestamptz, integer, integer),
  public.dunning_latest_recovery(uuid),
  public.dunning_settle_notice(text, text, timestamptz, timestamptz, text),
  public.dunning_outbox_summary()
from public, anon, authenticated;

grant execute on function
  public.dunning_add_notice(jsonb),
  public.apply_stripe_event_with_notices(jsonb, integer, text),
  public.dunning_reminders_due(timestamptz, integer, integer),
  public.dunning_claim_notices(timestamptz, integer, integer),
  public.dunning_latest_recovery(uuid),
  public.dunning_settle_notice(text, text, timestamptz, timestamptz, text),
  public.dunning_outbox_summary()
to service_role;
