-- 0004 Billing webhooks: Stripe events applied exactly once, in any order, and what the edge must know.
--
-- Guarantees:
--   * Exactly once. `apply_stripe_event` inserts the event id (primary key) and applies its effect
--     in one transaction. A second delivery, concurrent or not, conflicts on the key: a concurrent
--     one waits for the first transaction and then sees the committed row (a no-op), or inserts it
--     itself if the first rolled back. A failure anywhere rolls back the record with the effect, so
--     Stripe's retry applies it again. No check-then-insert race.
--   * Order independence. Stripe state is kept per subscription as two last-writer-wins registers,
--     each versioned by the event's own `created` (seconds), a rank of the event type for ties in
--     one second, and the event id as the last tie-break: the *status* register (checkout session,
--     customer.subscription.*) and the *invoice* register (invoice.paid / payment_failed). A
--     terminal status (canceled, incomplete_expired) outranks any non-terminal one, since Stripe
--     never revives an ended subscription. `paid_through` only grows. Registers merged this way
--     give the same result whatever the arrival order, so an old event never moves state back.
--   * The account is derived, not patched: after every event the account's tier, status and grace
--     period are recomputed from all of its subscriptions (linked by Stripe customer id or by the
--     account id carried in metadata). An event that arrives before the account is linked is stored
--     against its subscription and counted as soon as the link arrives.
--   * Everything about one Stripe customer is serialised by a transaction-scoped advisory lock, and
--     the account row is locked FOR UPDATE, so concurrent events of one customer cannot both miss
--     each other's rows. `billing_version` grows with every change of the derived state; the Worker
--     writes the edge state to Redis only if its version is not older than what Redis holds.
--   * Accounts an operator closed or suspended are never changed by billing events.

create table public.billing_subscriptions (
  id text primary key check (id ~ '^sub_'),
  customer_id text,
  account_id uuid references public.accounts (id) on delete set null,
  -- Status register: Stripe's subscription status and the tier its price maps to (null: none).
  status text,
  tier text check (tier ~ '^[a-z0-9_-]{1,32}$'),
  status_ts bigint,
  status_rank smallint,
  status_event text,
  -- Invoice register: the latest invoice outcome and, when failed, the end of its grace period.
  invoice_state text check (invoice_state in ('paid', 'failed')),
  invoice_ts bigint,
  invoice_rank smallint,
  invoice_event text,
  grace_until timestamptz,
  -- End of the latest period an invoice paid for; only grows.
  paid_through timestamptz,
  updated_at timestamptz not null default now()
);
create index billing_subscriptions_customer_idx on public.billing_subscriptions (customer_id);
create index billing_subscriptions_account_idx on public.billing_subscriptions (account_id);

-- Every event received, once, with what it did. `outcome`: applied (changed a register), stale
-- (older than what was already known), unmatched (no account yet; kept for when the link comes),
-- ignored (a type or object this service does not act on), conflict (the customer belongs to
-- another account; needs an operator).
create table public.billing_events (
  id text primary key check (id ~ '^evt_' and length(id) <= 255),
  type text not null,
  created_at timestamptz not null,
  received_at timestamptz not null default now(),
  outcome text not null default 'applied'
    check (outcome in ('applied', 'stale', 'unmatched', 'ignored', 'conflict')),
  object_id text,
  account_id uuid,
  detail text
);
create index billing_events_received_idx on public.billing_events (received_at desc);
create index billing_events_outcome_idx on public.billing_events (outcome, received_at desc);

alter table public.accounts
  add column billing_version bigint not null default 0,
  -- True when billing (not an operator) suspended the account: billing may lift it again.
  add column billing_suspended boolean not null default false;

alter table public.billing_subscriptions enable row level security;
alter table public.billing_events enable row level security;
revoke all on public.billing_subscriptions, public.billing_events from public, anon, authenticated;

-- What Redis must hold for an account: the tier override, whether every token is refused, and the
-- version that orders concurrent writers.
create function public.billing_edge_state(p_account_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'account_id', a.id,
    'tier', a.tier,
    'deny', a.status in ('suspended', 'closed')
      or (a.status = 'past_due' and (a.grace_until is null or a.grace_until <= now())),
    'version', a.billing_version)
  from public.accounts a where a.id = p_account_id
$$;

-- Recomputes an account's tier, status and grace period from its subscriptions (see the header).
-- The caller holds the account's row lock. Returns true when something changed.
create function public.billing_refresh_account(
  p_account_id uuid, p_grace_seconds integer, p_on_subscription_deleted text
) returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  v_account public.accounts;
  v_sub public.billing_subscriptions;
  v_granting boolean;
  v_invoice_newer boolean;
  v_arrears boolean;
  v_tier text;
  v_status text;
  v_grace timestamptz;
  v_suspended boolean := false;
begin
  select * into v_account from public.accounts a where a.id = p_account_id;
  if not found or v_account.status = 'closed' then return false; end if;
  if v_account.status = 'suspended' and not v_account.billing_suspended then return false; end if;

  -- The subscription that decides: one that grants a tier if any, else the latest by its register.
  select s.* into v_sub from public.billing_subscriptions s
    where s.status is not null
      and (s.account_id = v_account.id
        or (v_account.stripe_customer_id is not null and s.customer_id = v_account.stripe_customer_id))
    order by (s.status in ('active', 'trialing', 'past_due', 'unpaid') and s.tier is not null) desc,
      s.status_ts desc, s.status_rank desc, s.status_event desc
    limit 1;
  if not found then return false; end if;  -- billing knows nothing about this account yet

  v_granting := v_sub.status in ('active', 'trialing', 'past_due', 'unpaid') and v_sub.tier is not null;
  if v_granting then
    v_invoice_newer := v_sub.invoice_ts is not null
      and (v_sub.invoice_ts, v_sub.invoice_rank, v_sub.invoice_event)
        > (v_sub.status_ts, v_sub.status_rank, v_sub.status_event);
    v_arrears := case when v_invoice_newer then v_sub.invoice_state = 'failed'
                      else v_sub.status in ('past_due', 'unpaid') end;
    v_tier := v_sub.tier;
    v_status := case when v_arrears then 'past_due' else 'active' end;
    if v_arrears then
      -- unpaid: Stripe gave up retrying; access is restricted from then on.
      v_grace := case
        when v_sub.status = 'unpaid' and not v_invoice_newer then to_timestamp(v_sub.status_ts)
        when v_sub.invoice_state = 'failed' and v_sub.grace_until is not null then v_sub.grace_until
        else to_timestamp(v_sub.status_ts) + make_interval(secs => p_grace_seconds) end;
    end if;
  else
    v_tier := 'free';
    if p_on_subscription_deleted = 'revoke' and v_sub.status in ('canceled', 'incomplete_expired') then
      v_status := 'suspended';
      v_suspended := true;
    else
      v_status := 'active';
    end if;
  end if;

  if (v_account.tier, v_account.status, v_account.grace_until, v_account.billing_suspended)
      is not distinct from (v_tier, v_status, v_grace, v_suspended) then
    return false;
  end if;
  update public.accounts a set tier = v_tier, status = v_status, grace_until = v_grace,
      billing_suspended = v_suspended, billing_version = a.billing_version + 1, updated_at = now()
    where a.id = v_account.id;
  return true;
end
$$;

-- Applies one Stripe event, normalised by the Worker (src/webhooks/stripe-event.ts):
--   {id, type, created (unix s), kind: checkout|subscription|invoice|other, rank, object_id,
--    account_ref, customer, subscription, status, tier, invoice_state, period_end (unix s), detail}
-- Returns {duplicate, outcome, account_id, edge}: `edge` is the account's edge state after this
-- transaction (also for a duplicate, so a redelivery re-applies it), or null without an account.
create function public.apply_stripe_event(
  p_event jsonb, p_grace_seconds integer default 259200, p_on_subscription_deleted text default 'downgrade'
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_id text := p_event->>'id';
  v_kind text := coalesce(p_event->>'kind', 'other');
  v_ts bigint := (p_event->>'created')::bigint;
  v_rank smallint := coalesce((p_event->>'rank')::smallint, 0);
  v_customer text := nullif(p_event->>'customer', '');
  v_sub_id text := nullif(p_event->>'subscription', '');
  v_ref uuid;
  v_account public.accounts;
  v_owner uuid;
  v_outcome text;
  v_detail text := p_event->>'detail';
  v_terminal boolean;
  v_previous public.billing_events;
begin
  if p_on_subscription_deleted not in ('downgrade', 'revoke') then
    raise exception 'p_on_subscription_deleted must be downgrade or revoke' using errcode = '22023';
  end if;

  insert into public.billing_events (id, type, created_at, object_id)
    values (v_id, p_event->>'type', to_timestamp(v_ts), p_event->>'object_id')
    on conflict (id) do nothing;
  if not found then
    select * into v_previous from public.billing_events e where e.id = v_id;
    return jsonb_build_object('duplicate', true, 'outcome', v_previous.outcome,
      'account_id', v_previous.account_id,
      'edge', case when v_previous.account_id is null then null
                   else public.billing_edge_state(v_previous.account_id) end);
  end if;

  if v_kind not in ('checkout', 'subscription', 'invoice') or v_sub_id is null then
    update public.billing_events e set outcome = 'ignored', detail = coalesce(v_detail, 'not acted on')
      where e.id = v_id;
    return jsonb_build_object('duplicate', false, 'outcome', 'ignored', 'account_id', null, 'edge', null);
  end if;

  if v_customer is not null then
    perform pg_advisory_xact_lock(hashtextextended('stripe-customer:' || v_customer, 0));
  end if;
  if coalesce(p_event->>'account_ref', '') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    v_ref := (p_event->>'account_ref')::uuid;
  end if;

  -- The account: named by the event (client_reference_id / metadata), else linked by customer.
  if v_ref is not null then
    select * into v_account from public.accounts a where a.id = v_ref for update;
  end if;
  if v_account.id is null and v_customer is not null then
    select * into v_account from public.accounts a where a.stripe_customer_id = v_customer for update;
  end if;
  if v_account.id is null then
    select s.account_id into v_owner from public.billing_subscriptions s where s.id = v_sub_id;
    if v_owner is not null then
      select * into v_account from public.accounts a where a.id = v_owner for update;
    end if;
  end if;

  -- Link the customer to the account, once; a customer already linked elsewhere is a conflict.
  if v_account.id is not null and v_customer is not null
      and v_account.stripe_customer_id is distinct from v_customer then
    if v_account.stripe_customer_id is not null
        or exists (select 1 from public.accounts a where a.stripe_customer_id = v_customer) then
      update public.billing_events e set outcome = 'conflict', account_id = v_account.id,
          detail = 'customer ' || v_customer || ' and account ' || v_account.id || ' are linked elsewhere'
        where e.id = v_id;
      return jsonb_build_object('duplicate', false, 'outcome', 'conflict', 'account_id', v_account.id,
        'edge', public.billing_edge_state(v_account.id));
    end if;
    update public.accounts a set stripe_customer_id = v_customer, updated_at = now()
      where a.id = v_account.id;
  end if;

  insert into public.billing_subscriptions as s (id, customer_id, account_id)
    values (v_sub_id, v_customer, v_account.id)
    on conflict (id) do update set
      customer_id = coalesce(s.customer_id, excluded.customer_id),
      account_id = coalesce(s.account_id, excluded.account_id);

  if v_kind in ('checkout', 'subscription') then
    if p_event->>'status' is null then
      v_outcome := 'applied';  -- e.g. a checkout still awaiting payment: it links, nothing more
    else
      v_terminal := p_event->>'status' in ('canceled', 'incomplete_expired');
      update public.billing_subscriptions s set
          status = p_event->>'status', tier = p_event->>'tier',
          status_ts = v_ts, status_rank = v_rank, status_event = v_id, updated_at = now()
        where s.id = v_sub_id and (s.status_ts is null
          or (v_terminal, v_ts, v_rank, v_id)
            > (coalesce(s.status in ('canceled', 'incomplete_expired'), false), s.status_ts, s.status_rank, s.status_event));
      v_outcome := case when found then 'applied' else 'stale' end;
    end if;
  else
    update public.billing_subscriptions s set
        invoice_state = p_event->>'invoice_state',
        invoice_ts = v_ts, invoice_rank = v_rank, invoice_event = v_id,
        grace_until = case when p_event->>'invoice_state' = 'failed'
                           then to_timestamp(v_ts) + make_interval(secs => p_grace_seconds) end,
        updated_at = now()
      where s.id = v_sub_id and (s.invoice_ts is null
        or (v_ts, v_rank, v_id) > (s.invoice_ts, s.invoice_rank, s.invoice_event));
    v_outcome := case when found then 'applied' else 'stale' end;
    if p_event->>'invoice_state' = 'paid' and p_event->>'period_end' is not null then
      update public.billing_subscriptions s
        set paid_through = greatest(s.paid_through, to_timestamp((p_event->>'period_end')::bigint))
        where s.id = v_sub_id;
    end if;
  end if;

  if v_account.id is null then
    update public.billing_events e set outcome = 'unmatched',
        detail = coalesce(v_detail, 'no account for customer ' || coalesce(v_customer, '(none)') || ' yet')
      where e.id = v_id;
    return jsonb_build_object('duplicate', false, 'outcome', 'unmatched', 'account_id', null, 'edge', null);
  end if;

  perform public.billing_refresh_account(v_account.id, p_grace_seconds, p_on_subscription_deleted);
  update public.billing_events e set outcome = v_outcome, account_id = v_account.id, detail = v_detail
    where e.id = v_id;
  return jsonb_build_object('duplicate', false, 'outcome', v_outcome, 'account_id', v_account.id,
    'edge', public.billing_edge_state(v_account.id));
end
$$;

-- Recent events for GET /admin/events, newest first; every outcome when p_outcome is null.
create function public.list_billing_events(p_outcome text default null, p_limit integer default 50)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(to_jsonb(e) order by e.received_at desc, e.id), '[]'::jsonb)
  from (
    select e.id, e.type, e.created_at, e.received_at, e.outcome, e.object_id, e.account_id, e.detail
    from public.billing_events e
    where p_outcome is null or e.outcome = p_outcome
    order by e.received_at desc, e.id
    limit greatest(1, least(coalesce(p_limit, 50), 500))
  ) e
$$;

revoke all on function
  public.billing_edge_state(uuid),
  public.billing_refresh_account(uuid, integer, text),
  public.apply_stripe_event(jsonb, integer, text),
  public.list_billing_events(text, integer)
from public, anon, authenticated;

-- The helpers run only inside apply_stripe_event (as its owner); the Worker calls the two below.
revoke all on function
  public.billing_edge_state(uuid),
  public.billing_refresh_account(uuid, integer, text)
from service_role;

grant execute on function
  public.apply_stripe_event(jsonb, integer, text),
  public.list_billing_events(text, integer)
to service_role;
