-- 0008 Answered units: the second, independent side of the reconciliation (issue 15).
--
-- The ledger (0003) is built from usage records: the admission script appends one before compute,
-- and a compensation cancels it when the answer was not 2xx. A check of the ledger against itself
-- cannot see a record whose compensation was never written (a billed 429) nor records that never
-- reach the ledger (a stalled stream). So the Worker also counts, after the response status is
-- known, the units it answered 2xx per Stripe customer and UTC month (src/metering/answered-units.ts):
-- in Redis (`sm:answered:<YYYY-MM>`, one HINCRBY off the response path), and here when Redis does
-- not take the count. `npm run reconcile` compares those counts with the ledger per customer and
-- period.

create table public.answered_units (
  stripe_customer_id text not null check (stripe_customer_id <> ''),
  period text not null check (period ~ '^\d{4}-\d{2}$'),
  units bigint not null,
  updated_at timestamptz not null default now(),
  primary key (stripe_customer_id, period)
);
alter table public.answered_units enable row level security;
revoke all on public.answered_units from public, anon, authenticated;

-- Adds p_units to a customer's answered units of p_period. Not idempotent (a count, like the Redis
-- one): the Worker calls it once per answer, only when Redis did not take the count.
create function public.record_answered_units(p_stripe_customer_id text, p_period text, p_units integer)
returns void
language sql security definer set search_path = '' as $$
  insert into public.answered_units (stripe_customer_id, period, units)
    values (p_stripe_customer_id, p_period, p_units)
    on conflict (stripe_customer_id, period)
    do update set units = public.answered_units.units + excluded.units, updated_at = now()
$$;

-- What the reconciliation's second check reads from Postgres, for usage between p_from and p_to:
--   answered: the answered units recorded here (the Redis share is read from Redis), per customer
--     and period;
--   unsent: ledger units that occurred before p_unsent_before and are still not reported (no
--     batch yet, or a pending batch): usage answered long enough ago that it should have reached
--     Stripe; non-zero means batch formation or sending is stuck (issue 15, reproduction 3).
-- Returns {"answered": [{stripe_customer_id, period, units}], "unsent": [{stripe_customer_id,
-- period, units, oldest}]}.
create function public.answered_units_check(
  p_from timestamptz, p_to timestamptz, p_customer text default null, p_unsent_before timestamptz default now()
) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'answered', coalesce((
      select jsonb_agg(jsonb_build_object('stripe_customer_id', a.stripe_customer_id, 'period', a.period,
          'units', a.units) order by a.stripe_customer_id, a.period)
      from public.answered_units a
      where a.period >= to_char(p_from at time zone 'UTC', 'YYYY-MM')
        and a.period <= to_char((p_to - interval '1 microsecond') at time zone 'UTC', 'YYYY-MM')
        and (p_customer is null or a.stripe_customer_id = p_customer)), '[]'::jsonb),
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
  public.record_answered_units(text, text, integer),
  public.answered_units_check(timestamptz, timestamptz, text, timestamptz)
from public, anon, authenticated;

grant execute on function
  public.record_answered_units(text, text, integer),
  public.answered_units_check(timestamptz, timestamptz, text, timestamptz)
to service_role;
