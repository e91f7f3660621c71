-- 0018 The ledger reconciliation in time linear in the buckets it reads (issue 17).
--
-- 0017's billing_reconciliation joined its per-(customer, month) sums of buckets to its
-- per-(customer, month) sums of batches, and summed each batch's buckets in a correlated subquery.
-- On tables Postgres had not analysed yet (a fresh database, or right after a large flush, before
-- autovacuum's ANALYZE), the planner took both sides for one row and chose a nested loop that
-- recomputed the batch side, subquery included, once per row of the other: measured by
-- `npm run bench:billing`, 1,000 customers with two buckets each took 5.9 s (1,001,000 subquery
-- runs) and the reconciliation failed on the 8 s statement timeout; it grew with customers².
--
-- Here the same figures come from one pass: the buckets of the range and their batches (each batch
-- once, with the units of all its buckets, in the range or not, as before) are stacked as rows of
-- one shape and grouped once per (customer, month). A month with no bucket in the range has no row,
-- as before (the batches side only adds to months the buckets side has). Output unchanged.
create or replace function public.billing_reconciliation(p_from timestamptz, p_to timestamptz, p_customer text default null)
returns jsonb
language sql stable security definer set search_path = '' as $$
  with recs as materialized (
    select k.stripe_customer_id, k.period, k.batch_id, k.admitted, k.compensated, k.orphaned, k.records,
      k.admitted - k.compensated as units, b.status as batch_status
    from public.usage_buckets k
    left join public.usage_batches b on b.id = k.batch_id
    where k.starts_at >= p_from and k.starts_at < p_to
      and (p_customer is null or k.stripe_customer_id = p_customer)
  ), batches as materialized (
    select b.id, b.stripe_customer_id, b.period, b.units, b.status, b.attempts, b.dead_reason, b.dead_at,
      sum(k.admitted - k.compensated) as record_units
    from (select distinct r.batch_id from recs r where r.batch_id is not null) ids
    join public.usage_batches b on b.id = ids.batch_id
    join public.usage_buckets k on k.batch_id = b.id
    group by b.id
  ), facts as (
    select r.stripe_customer_id, r.period, r.admitted, r.compensated,
      case when r.batch_status in ('sent', 'netted') then r.units else 0 end as reported_records,
      case when r.batch_id is null or r.batch_status = 'pending' then r.units else 0 end as pending,
      case when r.batch_status = 'dead' then r.units else 0 end as dead_lettered,
      r.orphaned, r.records,
      0::bigint as reported_batches, 0 as dead_batches, 0 as pending_batches, null::boolean as consistent,
      true as from_buckets
    from recs r
    union all
    select b.stripe_customer_id, b.period, 0, 0, 0, 0, 0, 0, 0,
      case when b.status in ('sent', 'netted') then b.units else 0 end,
      (b.status = 'dead')::integer, (b.status = 'pending')::integer, b.units = b.record_units,
      false
    from batches b
  ), rows as (
    select f.stripe_customer_id, f.period, sum(f.admitted) as admitted, sum(f.compensated) as compensated,
      sum(f.reported_records) as reported, sum(f.reported_batches) as reported_by_batches,
      sum(f.pending) as pending, sum(f.dead_lettered) as dead_lettered,
      sum(f.orphaned) as orphan_compensations, sum(f.records) as records,
      sum(f.pending_batches) as pending_batches, sum(f.dead_batches) as dead_batches,
      coalesce(bool_and(f.consistent), true) as batches_consistent,
      (sum(f.admitted) - sum(f.compensated) = sum(f.reported_records) + sum(f.pending) + sum(f.dead_lettered))
        as balanced
    from facts f
    group by f.stripe_customer_id, f.period
    having bool_or(f.from_buckets)
  )
  select jsonb_build_object(
    'from', p_from, 'to', p_to, 'customer', p_customer,
    'rows', coalesce((select jsonb_agg(to_jsonb(r) order by r.stripe_customer_id, r.period) from rows r), '[]'::jsonb),
    'dead_letters', coalesce((
      select jsonb_agg(jsonb_build_object('id', b.id, 'stripe_customer_id', b.stripe_customer_id,
          'period', b.period, 'units', b.units, 'attempts', b.attempts, 'reason', b.dead_reason,
          'dead_at', b.dead_at) order by b.dead_at)
      from batches b
      where b.status = 'dead'), '[]'::jsonb)
  )
$$;
