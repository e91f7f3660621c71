-- 0017 Aggregate before storing (issue 17, item 1): the ledger keeps usage per customer, account
-- and hour (a "bucket"), not one row per request, so storage and ingestion grow with customers ×
-- time, not with requests.
--
-- How usage reaches a bucket (src/billing/scripts/drain-usage.ts, seal-buckets.ts):
--   * The flusher drains the Redis usage stream INSIDE Redis: one Lua script per chunk adds each
--     entry's units to a bucket hash (customer, account, hour; split at a known billing period
--     boundary) and deletes the entry, atomically, so no entry is counted twice or lost and no
--     per-request data leaves Redis.
--   * A bucket that is quiet (no write for FLUSH_SETTLE_SECONDS), or open for FLUSH_SEAL_SECONDS,
--     or whose hour is over, is sealed: renamed under a unique seal id, atomically. A write after
--     that (a late compensation) opens a new bucket of the same hour.
--   * Sealed buckets are inserted here keyed by their seal id (`on conflict do nothing`), and only
--     then deleted from Redis. A crash between sealing and moving, or between moving and deleting,
--     moves the same bucket again, which the key turns into a no-op.
-- Batches (usage_batches, unchanged) are formed from buckets as they were from records, in the
-- transaction that moves the buckets in: per customer, UTC month and billing period segment,
-- written before sending, id = md5 of the bucket ids.
--
-- Per-request exactness that the row-per-request ledger gave by its primary key is kept in Redis
-- for the only records that need it (compensations and replays, see append-usage.ts); the
-- compensations whose admission was never counted are kept as `orphaned` units (never billed).
--
-- The rows of usage_ledger are folded into buckets here (grouped by batch, so every batch keeps
-- exactly its units) and the table is emptied: nothing reads or writes it any more.

create table public.usage_buckets (
  -- The seal id: 'smb_' and the sealing run's random prefix and a counter (or 'legacy_' and an md5).
  id text primary key check (id ~ '^smb_[a-z0-9_]{8,80}$'),
  stripe_customer_id text not null check (stripe_customer_id <> ''),
  subject text not null,
  -- The hour, or the billing period boundary inside that hour the bucket starts at. Every usage
  -- record of the bucket occurred in [starts_at, the end of that hour or the next boundary).
  starts_at timestamptz not null,
  period text not null check (period ~ '^\d{4}-\d{2}$'),
  -- Units admitted, compensated (positive: what refunds took back) and of compensations whose
  -- admission was never counted (not billed; the old ledger's orphan compensations).
  admitted bigint not null check (admitted >= 0),
  compensated bigint not null check (compensated >= 0),
  orphaned bigint not null default 0 check (orphaned >= 0),
  records integer not null check (records > 0),
  -- When the earliest and the latest record of the bucket occurred (the latest is the batch's
  -- meter event timestamp; the earliest tells the answered check whether usage predates counting).
  first_at timestamptz not null,
  last_at timestamptz not null,
  ingested_at timestamptz not null default now(),
  batch_id text references public.usage_batches (id)
);
create index usage_buckets_unbatched_idx on public.usage_buckets (starts_at) where batch_id is null;
create index usage_buckets_batch_idx on public.usage_buckets (batch_id);
-- Buckets arrive in time order: a BRIN index serves the reconciliations' time ranges for a few
-- pages in all, where a btree would add an entry per bucket.
create index usage_buckets_time_idx on public.usage_buckets using brin (starts_at);
create index usage_buckets_subject_idx on public.usage_buckets (subject, starts_at);
alter table public.usage_buckets enable row level security;
revoke all on public.usage_buckets from public, anon, authenticated;

-- The old ledger, folded: per batch (or none), customer, account, hour and billing segment.
insert into public.usage_buckets (id, stripe_customer_id, subject, starts_at, period, admitted, compensated,
    orphaned, records, first_at, last_at, batch_id)
  select 'smb_legacy_' || md5(x.stripe_customer_id || '|' || x.subject || '|' || x.starts_at::text || '|'
      || coalesce(x.batch_id, '')),
    x.stripe_customer_id, x.subject, x.starts_at, to_char(x.starts_at at time zone 'UTC', 'YYYY-MM'),
    x.admitted, x.compensated, x.orphaned, x.records, x.first_at, x.last_at, x.batch_id
  from (
    select l.stripe_customer_id, l.subject, l.batch_id,
      greatest(date_trunc('hour', l.occurred_at at time zone 'UTC') at time zone 'UTC',
        coalesce(public.billing_segment_start(l.stripe_customer_id, l.occurred_at), '-infinity')) as starts_at,
      coalesce(sum(l.units) filter (where l.kind = 'admit'), 0) as admitted,
      coalesce(-sum(l.units) filter (where l.kind = 'compensate' and a.id is not null), 0) as compensated,
      coalesce(-sum(l.units) filter (where l.kind = 'compensate' and a.id is null), 0) as orphaned,
      count(*)::integer as records, min(l.occurred_at) as first_at, max(l.occurred_at) as last_at
    from public.usage_ledger l
    left join public.usage_ledger a on l.kind = 'compensate' and a.id = l.id and a.kind = 'admit'
    group by 1, 2, 3, 4
  ) x;
truncate public.usage_ledger;

-- Moves sealed buckets in, and forms their batches in the same transaction: one batch per
-- (customer, UTC month, billing period segment) of the buckets new here, written before anything
-- is sent, id = 'smu_' || md5 of its bucket ids. Each bucket is inserted once with its batch, never
-- updated afterwards (no dead row per bucket). p_buckets: [{id, stripe_customer_id, subject,
-- starts_at (unix s), admitted, compensated, orphaned, records, first_at and last_at (unix ms)}].
-- Idempotent per id: a bucket already here is skipped with its batch, so moving a sealed bucket
-- again (a run that died before deleting it from Redis) changes nothing. Moves take one advisory
-- lock, so two concurrent moves of one bucket cannot both count it new.
-- Returns {"inserted": n, "duplicates": m, "batches": b}.
create function public.ingest_usage_buckets(p_buckets jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_total integer;
  v_result jsonb;
begin
  perform pg_advisory_xact_lock(hashtextextended('ingest_usage_buckets', 0));
  select count(*) into v_total from jsonb_array_elements(p_buckets);
  with incoming as (
    select distinct on (b.id) b.id, b.stripe_customer_id, b.subject, to_timestamp(b.starts_at) as starts_at,
      to_char(to_timestamp(b.starts_at) at time zone 'UTC', 'YYYY-MM') as period, b.admitted, b.compensated,
      coalesce(b.orphaned, 0) as orphaned, b.records, to_timestamp(b.first_at / 1000.0) as first_at,
      to_timestamp(b.last_at / 1000.0) as last_at
    from jsonb_to_recordset(p_buckets) as b(id text, stripe_customer_id text, subject text, starts_at bigint,
      admitted bigint, compensated bigint, orphaned bigint, records integer, first_at bigint, last_at bigint)
    where not exists (select 1 from public.usage_buckets k where k.id = b.id)
    order by b.id
  ), segmented as (
    select i.*, public.billing_segment_start(i.stripe_customer_id, i.starts_at) as segment_start
    from incoming i
  ), grouped as (
    select 'smu_' || md5(string_agg(c.id, ',' order by c.id)) as id,
      c.stripe_customer_id, c.period, c.segment_start, sum(c.admitted - c.compensated)::bigint as units,
      least(sum(c.records), 2147483647)::integer as record_count,
      -- Stripe accepts timestamps up to 35 days old and 5 minutes ahead.
      least(max(c.last_at), now()) as event_timestamp
    from segmented c
    group by c.stripe_customer_id, c.period, c.segment_start
  ), batches as (
    insert into public.usage_batches (id, stripe_customer_id, period, segment_start, units, record_count,
        event_timestamp, status)
      select g.id, g.stripe_customer_id, g.period, g.segment_start, g.units, g.record_count, g.event_timestamp,
        case when g.units = 0 then 'netted' else 'pending' end
      from grouped g
    returning id
  ), inserted as (
    insert into public.usage_buckets (id, stripe_customer_id, subject, starts_at, period, admitted, compensated,
        orphaned, records, first_at, last_at, batch_id)
      select c.id, c.stripe_customer_id, c.subject, c.starts_at, c.period, c.admitted, c.compensated,
        c.orphaned, c.records, c.first_at, c.last_at, g.id
      from segmented c
      join grouped g on g.stripe_customer_id = c.stripe_customer_id and g.period = c.period
        and g.segment_start is not distinct from c.segment_start
    returning 1
  )
  select jsonb_build_object('inserted', (select count(*) from inserted),
      'duplicates', v_total - (select count(*) from inserted), 'batches', (select count(*) from batches))
    into v_result;
  return v_result;
end
$$;

-- Billing period boundaries recorded at or after p_since (the flusher mirrors them into Redis, so
-- the drain splits buckets at them): [{customer, boundary (unix s)}], and the latest recorded_at.
create function public.billing_boundaries_since(p_since timestamptz) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'boundaries', coalesce((select jsonb_agg(distinct jsonb_build_object('customer', b.customer, 'boundary', b.boundary))
      from (
        select p.customer_id as customer, extract(epoch from p.period_start)::bigint as boundary
          from public.billing_periods p where p.recorded_at >= p_since
        union all
        select p.customer_id, extract(epoch from p.period_end)::bigint
          from public.billing_periods p where p.recorded_at >= p_since
      ) b), '[]'::jsonb),
    'latest', (select max(p.recorded_at) from public.billing_periods p where p.recorded_at >= p_since))
$$;

-- As 0016, from buckets: one batch per (customer, UTC month, billing period segment) of the
-- unbatched buckets. Buckets moved by ingest_usage_buckets come with their batch; this batches
-- the rest (the old ledger's unbatched records, folded above). p_max_records caps the buckets per
-- call. Returns {"batches": n, "records": buckets batched}.
create or replace function public.ledger_form_batches(p_settle_seconds integer default 30, p_max_records integer default 5000)
returns jsonb
language sql security definer set search_path = '' as $$
  with locked as (
    select b.id, b.stripe_customer_id, b.period, b.starts_at, b.admitted - b.compensated as units,
      b.records, b.last_at
    from public.usage_buckets b
    where b.batch_id is null
    order by b.starts_at
    limit greatest(1, least(p_max_records, 50000))
    for update of b skip locked
  ), candidates as (
    select c.*, public.billing_segment_start(c.stripe_customer_id, c.starts_at) as segment_start
    from locked c
  ), grouped as (
    select 'smu_' || md5(string_agg(c.id, ',' order by c.id)) as id,
      c.stripe_customer_id, c.period, c.segment_start, sum(c.units)::bigint as units,
      least(sum(c.records), 2147483647)::integer as record_count,
      -- Stripe accepts timestamps up to 35 days old and 5 minutes ahead.
      least(max(c.last_at), now()) as event_timestamp
    from candidates c
    group by c.stripe_customer_id, c.period, c.segment_start
  ), inserted as (
    insert into public.usage_batches (id, stripe_customer_id, period, segment_start, units, record_count,
        event_timestamp, status)
      select g.id, g.stripe_customer_id, g.period, g.segment_start, g.units, g.record_count, g.event_timestamp,
        case when g.units = 0 then 'netted' else 'pending' end
      from grouped g
    returning id
  ), assigned as (
    update public.usage_buckets b set batch_id = g.id
      from candidates c
      join grouped g on g.stripe_customer_id = c.stripe_customer_id and g.period = c.period
        and g.segment_start is not distinct from c.segment_start
      where b.id = c.id
    returning 1
  )
  select jsonb_build_object('batches', (select count(*) from inserted), 'records', (select count(*) from assigned))
$$;

-- As 0003, from buckets, per Stripe customer and UTC month of the buckets starting in [p_from, p_to).
-- `records` counts usage records (admissions and compensations) the buckets hold.
create or replace function public.billing_reconciliation(p_from timestamptz, p_to timestamptz, p_customer text default null)
returns jsonb
language sql stable security definer set search_path = '' as $$
  with recs as (
    select k.*, k.admitted - k.compensated as units, b.status as batch_status
    from public.usage_buckets k
    left join public.usage_batches b on b.id = k.batch_id
    where k.starts_at >= p_from and k.starts_at < p_to
      and (p_customer is null or k.stripe_customer_id = p_customer)
  ), batch_sums as (
    select b.id, b.stripe_customer_id, b.period, b.units, b.status,
      (select coalesce(sum(k.admitted - k.compensated), 0) from public.usage_buckets k where k.batch_id = b.id) as record_units
    from public.usage_batches b
    where b.id in (select distinct r.batch_id from recs r where r.batch_id is not null)
  ), per as (
    select r.stripe_customer_id, r.period,
      coalesce(sum(r.admitted), 0) as admitted,
      coalesce(sum(r.compensated), 0) as compensated,
      coalesce(sum(r.units) filter (where r.batch_status in ('sent', 'netted')), 0) as reported_records,
      coalesce(sum(r.units) filter (where r.batch_id is null or r.batch_status = 'pending'), 0) as pending,
      coalesce(sum(r.units) filter (where r.batch_status = 'dead'), 0) as dead_lettered,
      coalesce(sum(r.orphaned), 0) as orphan_compensations,
      coalesce(sum(r.records), 0) as records
    from recs r
    group by r.stripe_customer_id, r.period
  ), per_batches as (
    select bs.stripe_customer_id, bs.period,
      coalesce(sum(bs.units) filter (where bs.status in ('sent', 'netted')), 0) as reported_batches,
      count(*) filter (where bs.status = 'dead') as dead_batches,
      count(*) filter (where bs.status = 'pending') as pending_batches,
      bool_and(bs.units = bs.record_units) as consistent
    from batch_sums bs
    group by bs.stripe_customer_id, bs.period
  ), rows as (
    select p.stripe_customer_id, p.period, p.admitted, p.compensated,
      p.reported_records as reported, coalesce(pb.reported_batches, 0) as reported_by_batches,
      p.pending, p.dead_lettered, p.orphan_compensations, p.records,
      coalesce(pb.pending_batches, 0) as pending_batches, coalesce(pb.dead_batches, 0) as dead_batches,
      coalesce(pb.consistent, true) as batches_consistent,
      (p.admitted - p.compensated = p.reported_records + p.pending + p.dead_lettered) as balanced
    from per p
    left join per_batches pb on pb.stripe_customer_id = p.stripe_customer_id and pb.period = p.period
  )
  select jsonb_build_object(
    'from', p_from, 'to', p_to, 'customer', p_customer,
    'rows', coalesce((select jsonb_agg(to_jsonb(r) order by r.stripe_customer_id, r.period) from rows r), '[]'::jsonb),
    'dead_letters', coalesce((
      select jsonb_agg(jsonb_build_object('id', b.id, 'stripe_customer_id', b.stripe_customer_id,
          'period', b.period, 'units', b.units, 'attempts', b.attempts, 'reason', b.dead_reason,
          'dead_at', b.dead_at) order by b.dead_at)
      from public.usage_batches b
      where b.status = 'dead' and b.id in (select distinct r.batch_id from recs r where r.batch_id is not null)),
      '[]'::jsonb)
  )
$$;

-- As 0011, from buckets (a bucket lies within one hour, so within one UTC day).
create or replace function public.answered_units_check(
  p_from timestamptz, p_to timestamptz, p_customer text, p_unsent_before timestamptz, p_since timestamptz
) returns jsonb
language sql stable security definer set search_path = '' as $$
  with bounds as (
    select
      greatest(
        (p_from at time zone 'UTC')::date + case when (p_from at time zone 'UTC')::time > '00:00' then 1 else 0 end,
        (p_since at time zone 'UTC')::date + case when exists (
          select 1 from public.usage_buckets k
          where k.starts_at >= date_trunc('day', p_since at time zone 'UTC') at time zone 'UTC'
            and k.first_at < p_since) then 1 else 0 end
      ) as days_from,
      least((p_to at time zone 'UTC')::date, (now() at time zone 'UTC')::date + 1) as days_to
  ), days as (
    select b.days_from, b.days_to from bounds b where p_since is not null and b.days_from < b.days_to
  ), ledger as (
    select k.stripe_customer_id, (k.starts_at at time zone 'UTC')::date as day,
      sum(k.admitted - k.compensated) as units
    from public.usage_buckets k, days d
    where k.starts_at >= d.days_from::timestamp at time zone 'UTC'
      and k.starts_at < d.days_to::timestamp at time zone 'UTC'
      and (p_customer is null or k.stripe_customer_id = p_customer)
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
      from ledger l where l.units <> 0), '[]'::jsonb),
    'unsent', coalesce((
      select jsonb_agg(jsonb_build_object('stripe_customer_id', u.stripe_customer_id, 'period', u.period,
          'units', u.units, 'oldest', u.oldest) order by u.stripe_customer_id, u.period)
      from (
        select k.stripe_customer_id, k.period, sum(k.admitted - k.compensated) as units, min(k.starts_at) as oldest
        from public.usage_buckets k
        left join public.usage_batches b on b.id = k.batch_id
        where k.starts_at >= p_from and k.starts_at < p_to and k.last_at < p_unsent_before
          and (p_customer is null or k.stripe_customer_id = p_customer)
          and (k.batch_id is null or b.status = 'pending')
        group by k.stripe_customer_id, k.period
        having sum(k.admitted - k.compensated) <> 0
      ) u), '[]'::jsonb)
  )
$$;

-- As 0013, from buckets (hour or finer, so both granularities are exact).
create or replace function public.usage_history(p_account_id uuid, p_from timestamptz, p_to timestamptz, p_granularity text)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object('start', b.start, 'units', b.units) order by b.start), '[]'::jsonb)
  from (
    select to_char(date_trunc(p_granularity, k.starts_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as start,
           sum(k.admitted - k.compensated)::bigint as units
    from public.usage_buckets k
    where p_granularity in ('day', 'hour')
      and k.subject = p_account_id::text and k.starts_at >= p_from and k.starts_at < p_to
    group by 1
  ) b
$$;

-- As 0003: `unbatched_records` now counts unbatched buckets.
create or replace function public.billing_ledger_backlog() returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'unbatched_records', (select count(*) from public.usage_buckets where batch_id is null),
    'pending_batches', (select count(*) from public.usage_batches where status = 'pending'),
    'dead_batches', (select count(*) from public.usage_batches where status = 'dead'),
    'oldest_pending', (select min(created_at) from public.usage_batches where status = 'pending'))
$$;

-- Pending usage says whether a compensation's admission was certainly recorded (the Worker had
-- the admission's answer): such a compensation always nets; an uncertain one only when the drain
-- counted its admission (src/billing/scripts/drain-usage.ts).
alter table public.pending_usage add column certain boolean not null default false;

drop function public.record_pending_usage(text, text, text, text, text, text, integer, timestamptz);
create function public.record_pending_usage(
  p_id text, p_kind text, p_request_id text, p_subject text, p_stripe_customer_id text, p_tier text,
  p_units integer, p_occurred_at timestamptz, p_certain boolean
) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.pending_usage (id, kind, request_id, subject, stripe_customer_id, tier, units, occurred_at, certain)
    values (p_id, p_kind, p_request_id, p_subject, p_stripe_customer_id, p_tier, p_units, p_occurred_at,
      coalesce(p_certain, false))
    on conflict (id, kind) do nothing;
  return found;
end
$$;

create or replace function public.claim_pending_usage(p_limit integer default 100, p_lease_seconds integer default 60)
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
      'occurred_at', c.occurred_at, 'certain', c.certain) order by c.recorded_at), '[]'::jsonb)
  into v_rows from claimed c;
  return v_rows;
end
$$;

-- Usage ids still waiting for replay (at most p_limit): the drain holds evidence for them, so a
-- record replayed later is matched with what the drain already counted (drain-usage.ts, "held").
create function public.pending_usage_ids(p_limit integer default 5000) returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(distinct p.id), '[]'::jsonb)
  from (select p.id from public.pending_usage p where p.replayed_at is null
        order by p.recorded_at limit greatest(1, least(p_limit, 50000))) p
$$;

revoke all on function
  public.ingest_usage_buckets(jsonb),
  public.billing_boundaries_since(timestamptz),
  public.record_pending_usage(text, text, text, text, text, text, integer, timestamptz, boolean),
  public.pending_usage_ids(integer)
from public, anon, authenticated;

grant execute on function
  public.ingest_usage_buckets(jsonb),
  public.billing_boundaries_since(timestamptz),
  public.record_pending_usage(text, text, text, text, text, text, integer, timestamptz, boolean),
  public.pending_usage_ids(integer)
to service_role;
