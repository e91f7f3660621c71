-- 0011 Answered units: the second, independent side of the reconciliation (issue 15).
--
-- The ledger (0003) is built from usage records: the admission script appends one before compute,
-- and a compensation cancels it when the answer was not 2xx. A check of the ledger against itself
-- cannot see a record whose compensation was never written (a billed 429) nor records that never
-- reach the ledger (a stalled stream). So the Worker also counts, after the response status is
-- known, the units it answered 2xx per Stripe customer and UTC day (src/metering/answered-units.ts):
-- in Redis (`sm:answered:<YYYY-MM-DD>`, one script off the response path), and here when Redis does
-- not take the count. `npm run reconcile` compares those counts with the ledger per customer and
-- day, shown per month (src/billing/answered-check.ts).
-- Written to apply again cleanly (if not exists, or replace): the file may be renumbered on merge.

create table if not exists public.answered_units (
  stripe_customer_id text not null check (stripe_customer_id <> ''),
  day date not null,
  units bigint not null,
  updated_at timestamptz not null default now(),
  primary key (stripe_customer_id, day)
);
alter table public.answered_units enable row level security;
revoke all on public.answered_units from public, anon, authenticated;

-- Adds p_units to a customer's answered units of p_day. Not idempotent (a count, like the Redis
-- one): the Worker calls it once per answer, only when Redis did not take the count.
create or replace function public.record_answered_units(p_stripe_customer_id text, p_day date, p_units integer)
returns void
language sql security definer set search_path = '' as $$
  insert into public.answered_units (stripe_customer_id, day, units)
    values (p_stripe_customer_id, p_day, p_units)
    on conflict (stripe_customer_id, day)
    do update set units = public.answered_units.units + excluded.units, updated_at = now()
$$;

-- What the reconciliation's second check reads from Postgres. The days compared are the whole UTC
-- days within [p_from, p_to) that were counted whole: from the day counting began (p_since, from
-- Redis), or the day after when the ledger has usage of that day from before p_since (it was never
-- counted), up to today. For those days, per customer and day:
--   answered: the answered units recorded here (the Redis share is read from Redis);
--   billed: the ledger's net units (admissions, and compensations of admissions it holds).
-- And for all of [p_from, p_to), per customer and month:
--   unsent: ledger units that occurred before p_unsent_before and are still not reported (no
--     batch yet, or a pending batch): usage that should have reached Stripe by now; non-zero means
--     batch formation or sending is stuck (issue 15, reproduction 3).
-- Returns {"days_from": date|null, "days_to": date|null, "answered": [{stripe_customer_id, day,
-- units}], "billed": [...same...], "unsent": [{stripe_customer_id, period, units, oldest}]}.
create or replace function public.answered_units_check(
  p_from timestamptz, p_to timestamptz, p_customer text, p_unsent_before timestamptz, p_since timestamptz
) returns jsonb
language sql stable security definer set search_path = '' as $$
  with bounds as (
    select
      greatest(
        (p_from at time zone 'UTC')::date + case when (p_from at time zone 'UTC')::time > '00:00' then 1 else 0 end,
        (p_since at time zone 'UTC')::date + case when exists (
          select 1 from public.usage_ledger l
          where l.occurred_at >= date_trunc('day', p_since at time zone 'UTC') at time zone 'UTC'
            and l.occurred_at < p_since) then 1 else 0 end
      ) as days_from,
      least((p_to at time zone 'UTC')::date, (now() at time zone 'UTC')::date + 1) as days_to
  ), days as (
    select b.days_from, b.days_to from bounds b where p_since is not null and b.days_from < b.days_to
  ), ledger as (
    select l.stripe_customer_id, (l.occurred_at at time zone 'UTC')::date as day, sum(l.units) as units
    from public.usage_ledger l, days d
    where l.occurred_at >= d.days_from::timestamp at time zone 'UTC'
      and l.occurred_at < d.days_to::timestamp at time zone 'UTC'
      and (p_customer is null or l.stripe_customer_id = p_customer)
      and (l.kind = 'admit' or exists (
        select 1 from public.usage_ledger a where a.id = l.id and a.kind = 'admit'))
    group by 1, 2
  )
  select jsonb_build_object(
    'days_from', (select days_from from days),
    'days_to', (select days_to from days),
    'answered', coalesce((
      select jsonb_agg(jsonb_build_object('stripe_customer_id', a.stripe_customer_id, 'day', a.day,
          'units', a.units) order by a.stripe_customer_id, a.day)
      from public.answered_units a, days d
      where a.day >= d.days_from and a.day < d.days_to
        and (p_customer is null or a.stripe_customer_id = p_customer)), '[]'::jsonb),
    'billed', coalesce((
      select jsonb_agg(jsonb_build_object('stripe_customer_id', l.stripe_customer_id, 'day', l.day,
          'units', l.units) order by l.stripe_customer_id, l.day)
      from ledger l), '[]'::jsonb),
    'unsent', coalesce((
      select jsonb_agg(jsonb_build_object('stripe_customer_id', u.stripe_customer_id, 'period', u.period,
          'units', u.units, 'oldest', u.oldest) order by u.stripe_customer_id, u.period)
      from (
        select l.stripe_customer_id, l.period, sum(l.units) as units, min(l.occurred_at) as oldest
        from public.usage_ledger l
        left join public.usage_batches b on b.id = l.batch_id
        where l.occurred_at >= p_from and l.occurred_at < p_to and l.occurred_at < p_unsent_before
          and (p_customer is null or l.stripe_customer_id = p_customer)
          and (l.batch_id is null or b.status = 'pending')
          and (l.kind = 'admit' or exists (
            select 1 from public.usage_ledger a where a.id = l.id and a.kind = 'admit'))
        group by l.stripe_customer_id, l.period
        having sum(l.units) <> 0
      ) u), '[]'::jsonb)
  )
$$;

revoke all on function
  public.record_answered_units(text, date, integer),
  public.answered_units_check(timestamptz, timestamptz, text, timestamptz, timestamptz)
from public, anon, authenticated;

grant execute on function
  public.record_answered_units(text, date, integer),
  public.answered_units_check(timestamptz, timestamptz, text, timestamptz, timestamptz)
to service_role;
