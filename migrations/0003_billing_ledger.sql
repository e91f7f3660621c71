-- 0003 Billing ledger: the durable record of every billable usage record the flusher took from the
-- usage stream, and of every meter event it sends (or sent, or gave up on) to Stripe.
--
-- Exactly once, end to end:
--   * `usage_ledger` is keyed by the usage record's identity (id, kind). Ingesting a record twice
--     (a reclaimed stream entry, a record both in the stream and replayed from pending_usage, two
--     flushers reading the same entry) is a no-op, so the stream entry can be acknowledged and
--     deleted as soon as the ingest transaction commits.
--   * `usage_batches` is written BEFORE anything is sent. Its id is the meter event `identifier`,
--     derived from the (id, kind) of the records it covers, and a record belongs to at most one
--     batch (`usage_ledger.batch_id`, set once). A retry sends the same row again: the same
--     identifier, units and timestamp, never a new grouping of the same records.
--   * Forming batches locks the candidate records (FOR UPDATE SKIP LOCKED) and claiming batches
--     to send leases them (SKIP LOCKED plus `leased_until`), so two flushers never share a record
--     or send one batch at the same time. If a lease runs out mid-send and a second flusher sends
--     the same batch, Stripe deduplicates the identifier (at least 24 h) and the flusher treats
--     "an event already exists with identifier" as accepted.
--
-- Compensations (negative units, same id as the admission they cancel) are netted: a compensation
-- joins a batch only once its admission is in the ledger, so a compensation whose admission was
-- never seen is a no-op (reported apart as an orphan, never sent). Free-tier records (no Stripe
-- customer) never reach the ledger.

create table public.usage_batches (
  -- The meter event identifier: 'smu_' || md5 of the sorted (id:kind) list of its records.
  id text primary key check (id ~ '^smu_[0-9a-f]{32}$'),
  stripe_customer_id text not null check (stripe_customer_id <> ''),
  -- UTC month (YYYY-MM) of the records: a batch never spans billing months.
  period text not null check (period ~ '^\d{4}-\d{2}$'),
  -- Net units (admissions minus compensations). 0 means nothing to send (status 'netted').
  units integer not null,
  record_count integer not null check (record_count > 0),
  -- The meter event's timestamp, fixed at creation so a retry sends the same event.
  event_timestamp timestamptz not null,
  status text not null check (status in ('pending', 'sent', 'netted', 'dead')),
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  first_attempt_at timestamptz,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz not null default now(),
  leased_by text,
  leased_until timestamptz,
  sent_at timestamptz,
  last_error text,
  dead_reason text,
  dead_at timestamptz
);
create index usage_batches_sendable_idx on public.usage_batches (next_attempt_at) where status = 'pending';
create index usage_batches_customer_period_idx on public.usage_batches (stripe_customer_id, period);

create table public.usage_ledger (
  id text not null check (length(id) between 8 and 64),
  kind text not null check (kind in ('admit', 'compensate')),
  request_id text not null,
  subject text not null,
  stripe_customer_id text not null check (stripe_customer_id <> ''),
  tier text not null,
  units integer not null check ((kind = 'admit' and units > 0) or (kind = 'compensate' and units < 0)),
  occurred_at timestamptz not null,
  period text not null check (period ~ '^\d{4}-\d{2}$'),
  -- 'live' or 'replay' (from pending_usage), and the Redis entry id it was first read from.
  source text not null,
  stream_entry_id text,
  ingested_at timestamptz not null default now(),
  batch_id text references public.usage_batches (id),
  primary key (id, kind)
);
create index usage_ledger_unbatched_idx on public.usage_ledger (occurred_at) where batch_id is null;
create index usage_ledger_batch_idx on public.usage_ledger (batch_id);
create index usage_ledger_customer_time_idx on public.usage_ledger (stripe_customer_id, occurred_at);

alter table public.usage_batches enable row level security;
alter table public.usage_ledger enable row level security;
revoke all on public.usage_batches, public.usage_ledger from public, anon, authenticated;

-- Ingests usage records read from the stream. p_records: [{id, kind, request_id, subject,
-- stripe_customer_id, tier, units, ts, source, stream_entry_id}, ...]. Idempotent per (id, kind).
-- Returns {"inserted": n, "duplicates": m}.
create function public.ledger_ingest_usage(p_records jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_total integer;
  v_inserted integer;
begin
  select count(*) into v_total from jsonb_array_elements(p_records);
  insert into public.usage_ledger (id, kind, request_id, subject, stripe_customer_id, tier, units,
      occurred_at, period, source, stream_entry_id)
    select r.id, r.kind, r.request_id, r.subject, r.stripe_customer_id, r.tier, r.units, r.ts,
      to_char(r.ts at time zone 'UTC', 'YYYY-MM'), coalesce(r.source, 'live'), r.stream_entry_id
    from jsonb_to_recordset(p_records) as r(id text, kind text, request_id text, subject text,
      stripe_customer_id text, tier text, units integer, ts timestamptz, source text, stream_entry_id text)
    order by r.id, r.kind
    on conflict (id, kind) do nothing;
  get diagnostics v_inserted = row_count;
  return jsonb_build_object('inserted', v_inserted, 'duplicates', v_total - v_inserted);
end
$$;

-- Groups unbatched records into batches, one per (Stripe customer, UTC month), and writes the
-- batches before anything is sent. Only records at least p_settle_seconds old are taken, so a
-- refunded request's compensation (appended right after its response) is netted in the same batch
-- instead of following as a separate negative event. A compensation waits until its admission is
-- in the ledger. At most p_max_records records per call. Returns {"batches": n, "records": m}.
create function public.ledger_form_batches(p_settle_seconds integer default 30, p_max_records integer default 5000)
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
      c.stripe_customer_id, c.period, sum(c.units)::integer as units, count(*)::integer as record_count,
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

-- Leases up to p_limit batches that are due for sending, oldest first. Concurrent flushers never
-- get the same batch (SKIP LOCKED plus the lease). A batch first attempted more than
-- p_dedupe_window_seconds ago whose outcome is still unknown is dead-lettered instead: past
-- Stripe's identifier dedupe window a resend could bill twice, so an operator must check it.
create function public.claim_usage_batches(
  p_runner text, p_limit integer default 6, p_lease_seconds integer default 60,
  p_dedupe_window_seconds integer default 82800
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_rows jsonb;
begin
  update public.usage_batches b
    set status = 'dead', dead_at = now(), leased_by = null, leased_until = null,
      dead_reason = 'outcome unknown past the identifier dedupe window; check Stripe before resending (last error: '
        || coalesce(b.last_error, 'none') || ')'
    where b.status = 'pending' and b.first_attempt_at < now() - make_interval(secs => p_dedupe_window_seconds)
      and (b.leased_until is null or b.leased_until < now());

  with claimable as (
    select b.id from public.usage_batches b
    where b.status = 'pending' and b.next_attempt_at <= now()
      and (b.leased_until is null or b.leased_until < now())
    order by b.next_attempt_at, b.created_at
    limit greatest(1, least(p_limit, 1000))
    for update skip locked
  ), claimed as (
    update public.usage_batches b
      set leased_by = p_runner, leased_until = now() + make_interval(secs => p_lease_seconds),
        attempts = b.attempts + 1, first_attempt_at = coalesce(b.first_attempt_at, now()),
        last_attempt_at = now()
    from claimable c where b.id = c.id
    returning b.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', c.id, 'stripe_customer_id', c.stripe_customer_id, 'units', c.units,
      'event_timestamp', extract(epoch from c.event_timestamp)::bigint, 'attempts', c.attempts)
      order by c.created_at), '[]'::jsonb)
  into v_rows from claimed c;
  return v_rows;
end
$$;

-- Records what Stripe said about leased batches. p_outcomes: [{id, outcome: sent|retry|dead,
-- error, retry_after_seconds}]. 'sent' always wins (Stripe has the event); 'retry' and 'dead'
-- apply only while p_runner still holds the lease, so a slow flusher cannot undo another's result.
-- Returns the number of batches updated.
create function public.settle_usage_batches(p_runner text, p_outcomes jsonb) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  v_count integer := 0;
  v_rows integer;
begin
  update public.usage_batches b
    set status = 'sent', sent_at = coalesce(b.sent_at, now()), leased_by = null, leased_until = null,
      last_error = null
    from jsonb_to_recordset(p_outcomes) as o(id text, outcome text, error text, retry_after_seconds integer)
    where b.id = o.id and o.outcome = 'sent' and b.status = 'pending';
  get diagnostics v_rows = row_count;
  v_count := v_count + v_rows;

  update public.usage_batches b
    set leased_by = null, leased_until = null, last_error = left(o.error, 500),
      next_attempt_at = now() + make_interval(secs => greatest(coalesce(o.retry_after_seconds, 0), 0))
    from jsonb_to_recordset(p_outcomes) as o(id text, outcome text, error text, retry_after_seconds integer)
    where b.id = o.id and o.outcome = 'retry' and b.status = 'pending' and b.leased_by = p_runner;
  get diagnostics v_rows = row_count;
  v_count := v_count + v_rows;

  update public.usage_batches b
    set status = 'dead', dead_at = now(), dead_reason = left(o.error, 500), last_error = left(o.error, 500),
      leased_by = null, leased_until = null
    from jsonb_to_recordset(p_outcomes) as o(id text, outcome text, error text, retry_after_seconds integer)
    where b.id = o.id and o.outcome = 'dead' and b.status = 'pending' and b.leased_by = p_runner;
  get diagnostics v_rows = row_count;
  return v_count + v_rows;
end
$$;

-- Operator action after fixing the cause (e.g. the customer now exists in Stripe): puts a
-- dead-lettered batch back in the queue with the same identifier. Null when no such dead batch.
create function public.requeue_dead_usage_batch(p_id text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_batch public.usage_batches;
begin
  update public.usage_batches b
    set status = 'pending', dead_at = null, dead_reason = null, next_attempt_at = now(),
      first_attempt_at = null, attempts = 0
    where b.id = p_id and b.status = 'dead'
    returning * into v_batch;
  if not found then return null; end if;
  return jsonb_build_object('id', v_batch.id, 'status', v_batch.status);
end
$$;

-- Reconciliation per Stripe customer and UTC month, over records that occurred in [p_from, p_to):
--   admitted     units of admissions
--   compensated  units cancelled by compensations whose admission is in the ledger
--   reported     net units of records in batches Stripe accepted (or netted to zero)
--   pending      net units of records not yet batched, or in batches still to be sent
--   dead_lettered net units of records in dead-lettered batches
-- and `balanced`: admitted - compensated = reported + pending + dead_lettered. Reported units are
-- counted from the batches (units Stripe accepted); `batches_consistent` says each batch's units
-- equal the sum of its records. Orphan compensations (admission never seen) are listed apart.
create function public.billing_reconciliation(p_from timestamptz, p_to timestamptz, p_customer text default null)
returns jsonb
language sql stable security definer set search_path = '' as $$
  with recs as (
    select l.*, b.status as batch_status,
      (l.kind = 'compensate' and not exists (
        select 1 from public.usage_ledger a where a.id = l.id and a.kind = 'admit')) as orphan
    from public.usage_ledger l
    left join public.usage_batches b on b.id = l.batch_id
    where l.occurred_at >= p_from and l.occurred_at < p_to
      and (p_customer is null or l.stripe_customer_id = p_customer)
  ), batch_sums as (
    -- Batches touching the selection, with their records' total (over all records, not only the selected).
    select b.id, b.stripe_customer_id, b.period, b.units, b.status,
      (select coalesce(sum(l.units), 0) from public.usage_ledger l where l.batch_id = b.id) as record_units
    from public.usage_batches b
    where b.id in (select distinct r.batch_id from recs r where r.batch_id is not null)
  ), per as (
    select r.stripe_customer_id, r.period,
      coalesce(sum(r.units) filter (where r.kind = 'admit'), 0) as admitted,
      coalesce(-sum(r.units) filter (where r.kind = 'compensate' and not r.orphan), 0) as compensated,
      coalesce(sum(r.units) filter (where r.batch_status in ('sent', 'netted')), 0) as reported_records,
      coalesce(sum(r.units) filter (where not r.orphan and (r.batch_id is null or r.batch_status = 'pending')), 0) as pending,
      coalesce(sum(r.units) filter (where r.batch_status = 'dead'), 0) as dead_lettered,
      coalesce(-sum(r.units) filter (where r.orphan), 0) as orphan_compensations,
      count(*) as records
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
      -- Whole batches lie in one period; with a period-aligned range the two counts agree.
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

-- Ledger counters for readiness and the flush log: unbatched records and batches by status.
create function public.billing_ledger_backlog() returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'unbatched_records', (select count(*) from public.usage_ledger where batch_id is null),
    'pending_batches', (select count(*) from public.usage_batches where status = 'pending'),
    'dead_batches', (select count(*) from public.usage_batches where status = 'dead'),
    'oldest_pending', (select min(created_at) from public.usage_batches where status = 'pending'))
$$;

revoke all on function
  public.ledger_ingest_usage(jsonb),
  public.ledger_form_batches(integer, integer),
  public.claim_usage_batches(text, integer, integer, integer),
  public.settle_usage_batches(text, jsonb),
  public.requeue_dead_usage_batch(text),
  public.billing_reconciliation(timestamptz, timestamptz, text),
  public.billing_ledger_backlog()
from public, anon, authenticated;

grant execute on function
  public.ledger_ingest_usage(jsonb),
  public.ledger_form_batches(integer, integer),
  public.claim_usage_batches(text, integer, integer, integer),
  public.settle_usage_batches(text, jsonb),
  public.requeue_dead_usage_batch(text),
  public.billing_reconciliation(timestamptz, timestamptz, text),
  public.billing_ledger_backlog()
to service_role;
