-- 0007 Batch sums in bigint. `ledger_form_batches` (0003) summed a customer's records into an
-- integer: three records of 999,999,999 units overflowed it, the statement failed, and no batch was
-- formed for any customer (the flush reported database_unavailable on every run). The flusher now
-- refuses records beyond 1,000,000 units as poison, and a batch holds at most 50,000 records, so a
-- batch sum stays below 5 * 10^10: bigint holds that with room, and Stripe's meter event value
-- (at most 15 significant digits) too.

alter table public.usage_batches alter column units type bigint;

create or replace function public.ledger_form_batches(p_settle_seconds integer default 30, p_max_records integer default 5000)
returns jsonb
language sql security definer set search_path = '' as $$
  with candidates as (
    select l.id, l.kind, l.stripe_customer_id, l.period, l.units, l.occurred_at
    from public.usage_ledger l
    where l.batch_id is null
      and l.occurred_at <= now() - make_interval(secs => greatest(p_settle_seconds, 0))
      and (l.kind = 'admit' or exists (
        select 1 from public.usage_ledger a where a.id = l.id and a.kind = 'admit'))
    order by l.occurred_at
    limit greatest(1, least(p_max_records, 50000))
    for update of l skip locked
  ), grouped as (
    select 'smu_' || md5(string_agg(c.id || ':' || c.kind, ',' order by c.id, c.kind)) as id,
      c.stripe_customer_id, c.period, sum(c.units)::bigint as units, count(*)::integer as record_count,
      -- Stripe accepts timestamps up to 35 days old and 5 minutes ahead.
      least(max(c.occurred_at), now()) as event_timestamp
    from candidates c
    group by c.stripe_customer_id, c.period
  ), inserted as (
    insert into public.usage_batches (id, stripe_customer_id, period, units, record_count, event_timestamp, status)
      select g.id, g.stripe_customer_id, g.period, g.units, g.record_count, g.event_timestamp,
        case when g.units = 0 then 'netted' else 'pending' end
      from grouped g
    returning id
  ), assigned as (
    update public.usage_ledger l set batch_id = g.id
      from candidates c
      join grouped g on g.stripe_customer_id = c.stripe_customer_id and g.period = c.period
      where l.id = c.id and l.kind = c.kind
    returning 1
  )
  select jsonb_build_object('batches', (select count(*) from inserted), 'records', (select count(*) from assigned))
$$;
