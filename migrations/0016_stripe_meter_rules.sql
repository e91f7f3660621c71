-- 0016 Stripe's meter rules, and what Stripe says back later (issue 17, items 3-5).
--
-- 1. Billing periods. Stripe bills a meter event in the subscription period its timestamp falls in,
--    so a batch must never straddle a period boundary: its one timestamp would move the usage of
--    one period into the next. The webhooks record every period they see of a subscription
--    (`record_billing_periods`, idempotent, from customer.subscription.* items and invoice lines);
--    `ledger_form_batches` splits a customer's records at every known boundary (each period's start
--    and end), as well as by UTC month (the reconciliation's period). A boundary learnt later than
--    the records it splits cannot move a batch already formed; the webhooks arrive within seconds of
--    a renewal, and records wait FLUSH_SETTLE_SECONDS before they are batched.
-- 2. At most one meter event in flight per customer (Stripe's meter events endpoint allows one
--    concurrent call per customer and meter in live mode, and answers 429 to a second). A customer
--    lease row (`meter_customer_leases`) is taken with an upsert before a batch of that customer is
--    leased; a concurrent claimer of the same customer waits for it and then sees its lease,
--    so two flushers cannot both hold it (a non-waiting advisory lock per customer keeps claimers
--    from waiting on each other in a cycle). A customer lease holds only while its holder leases a
--    batch of that customer (the batch lease is the truth); it is released when the batch is
--    settled and runs out with the batch lease if a run dies.
-- 3. Asynchronous errors: Stripe validates meter events after answering 200 and reports rejections
--    in `v1.billing.meter.error_report_triggered` / `v1.billing.meter.no_meter_found` events, with
--    sample errors naming the meter event identifier, which is our batch id (with a `_p<n>` suffix
--    for the parts of a batch split at 15 digits). Each report is recorded once and the batches its
--    samples name are dead-lettered with Stripe's reason: their units were never billed.
-- 4. Reconciliation with Stripe: what the ledger says Stripe was sent (sent batches, by their event
--    timestamp) per customer and UTC month, over a window Stripe has had time to aggregate, for
--    comparison with Stripe's meter event summaries; and the correcting events an operator sends
--    for a difference (`meter_corrections`, written before sending, with their own identifier).

create table public.billing_periods (
  subscription_id text not null check (subscription_id ~ '^sub_'),
  customer_id text not null check (customer_id <> ''),
  period_start timestamptz not null,
  period_end timestamptz not null check (period_end > period_start),
  recorded_at timestamptz not null default now(),
  primary key (subscription_id, period_start)
);
create index billing_periods_customer_idx on public.billing_periods (customer_id, period_start);

create table public.meter_customer_leases (
  stripe_customer_id text primary key,
  leased_by text not null,
  leased_until timestamptz not null
);

-- The billing period segment a batch lies in (billing_segment_start); null when no period is known.
alter table public.usage_batches add column segment_start timestamptz;

create table public.meter_error_reports (
  event_id text primary key check (event_id ~ '^evt_' and length(event_id) <= 255),
  type text not null,
  meter_id text,
  summary text,
  error_count integer not null default 0,
  validation_start timestamptz,
  validation_end timestamptz,
  received_at timestamptz not null default now()
);

create table public.meter_error_samples (
  event_id text not null references public.meter_error_reports (event_id),
  identifier text not null,
  code text not null,
  message text,
  -- The batch the identifier names, when it is one of ours (no foreign key: ledger truncations in
  -- tests and retention jobs must not be blocked by error history).
  batch_id text,
  primary key (event_id, identifier)
);
create index meter_error_samples_batch_idx on public.meter_error_samples (batch_id);

alter table public.billing_periods enable row level security;
alter table public.meter_customer_leases enable row level security;
alter table public.meter_error_reports enable row level security;
alter table public.meter_error_samples enable row level security;
revoke all on public.billing_periods, public.meter_customer_leases, public.meter_error_reports,
  public.meter_error_samples from public, anon, authenticated;

-- Records subscription periods seen in webhooks. p_periods: [{subscription, customer, start, end}]
-- (unix seconds). Idempotent; a period's end follows the latest event (a trial ended early).
-- Returns the number of rows written.
create function public.record_billing_periods(p_periods jsonb) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  v_rows integer;
begin
  insert into public.billing_periods as p (subscription_id, customer_id, period_start, period_end)
    select distinct on (r.subscription, r.start) r.subscription, r.customer, to_timestamp(r.start), to_timestamp(r."end")
    from jsonb_to_recordset(p_periods) as r(subscription text, customer text, start bigint, "end" bigint)
    where r.subscription ~ '^sub_' and coalesce(r.customer, '') <> '' and r."end" > r.start
    order by r.subscription, r.start, r."end" desc
    on conflict (subscription_id, period_start) do update set period_end = excluded.period_end, recorded_at = now()
      where p.period_end is distinct from excluded.period_end;
  get diagnostics v_rows = row_count;
  return v_rows;
end
$$;

-- Start of the billing period (or month) segment a record at p_at falls in: the latest period
-- boundary (start or end) of the customer's subscriptions at or before p_at; null when none is known.
create function public.billing_segment_start(p_customer text, p_at timestamptz) returns timestamptz
language sql stable security definer set search_path = '' as $$
  select max(b.boundary) from (
    select p.period_start as boundary from public.billing_periods p
      where p.customer_id = p_customer and p.period_start <= p_at
    union all
    select p.period_end from public.billing_periods p
      where p.customer_id = p_customer and p.period_end <= p_at
  ) b
$$;

-- As 0007, with batches split at billing period boundaries: one batch per (customer, UTC month,
-- billing period segment).
create or replace function public.ledger_form_batches(p_settle_seconds integer default 30, p_max_records integer default 5000)
returns jsonb
language sql security definer set search_path = '' as $$
  with locked as (
    select l.id, l.kind, l.stripe_customer_id, l.period, l.units, l.occurred_at
    from public.usage_ledger l
    where l.batch_id is null
      and l.occurred_at <= now() - make_interval(secs => greatest(p_settle_seconds, 0))
      and (l.kind = 'admit' or exists (
        select 1 from public.usage_ledger a where a.id = l.id and a.kind = 'admit'))
    order by l.occurred_at
    limit greatest(1, least(p_max_records, 50000))
    for update of l skip locked
  ), candidates as (
    select c.*, public.billing_segment_start(c.stripe_customer_id, c.occurred_at) as segment_start
    from locked c
  ), grouped as (
    select 'smu_' || md5(string_agg(c.id || ':' || c.kind, ',' order by c.id, c.kind)) as id,
      c.stripe_customer_id, c.period, c.segment_start, sum(c.units)::bigint as units,
      count(*)::integer as record_count,
      -- Stripe accepts timestamps up to 35 days old and 5 minutes ahead.
      least(max(c.occurred_at), now()) as event_timestamp
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
    update public.usage_ledger l set batch_id = g.id
      from candidates c
      join grouped g on g.stripe_customer_id = c.stripe_customer_id and g.period = c.period
        and g.segment_start is not distinct from c.segment_start
      where l.id = c.id and l.kind = c.kind
    returning 1
  )
  select jsonb_build_object('batches', (select count(*) from inserted), 'records', (select count(*) from assigned))
$$;

-- As 0003, but at most one batch per customer, and none of a customer another run holds a lease
-- on (see 2. above). Returns the same shape.
create or replace function public.claim_usage_batches(
  p_runner text, p_limit integer default 6, p_lease_seconds integer default 60,
  p_dedupe_window_seconds integer default 82800
) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_candidate record;
  v_claimed text[] := '{}';
  v_limit integer := greatest(1, least(p_limit, 1000));
  v_rows jsonb;
begin
  update public.usage_batches b
    set status = 'dead', dead_at = now(), leased_by = null, leased_until = null,
      dead_reason = 'outcome unknown past the identifier dedupe window; check Stripe before resending (last error: '
        || coalesce(b.last_error, 'none') || ')'
    where b.status = 'pending' and b.first_attempt_at < now() - make_interval(secs => p_dedupe_window_seconds)
      and (b.leased_until is null or b.leased_until < now());

  -- The oldest due batch of each customer whose lease is free, oldest first. A claimer first takes
  -- a transaction-scoped advisory lock of the customer without waiting (skipping the customer when
  -- another claimer has it), so two claimers never wait on each other's lease rows in a cycle.
  for v_candidate in
    select c.id, c.stripe_customer_id from (
      select distinct on (b.stripe_customer_id) b.id, b.stripe_customer_id, b.next_attempt_at, b.created_at
      from public.usage_batches b
      where b.status = 'pending' and b.next_attempt_at <= now()
        and (b.leased_until is null or b.leased_until < now())
        and not exists (select 1 from public.meter_customer_leases l
          where l.stripe_customer_id = b.stripe_customer_id and l.leased_until >= now()
            and exists (select 1 from public.usage_batches h
              where h.stripe_customer_id = l.stripe_customer_id and h.leased_by = l.leased_by
                and h.leased_until >= now()))
      order by b.stripe_customer_id, b.next_attempt_at, b.created_at
    ) c
    order by c.next_attempt_at, c.created_at
    limit v_limit * 2
  loop
    exit when cardinality(v_claimed) >= v_limit;
    continue when not pg_try_advisory_xact_lock(hashtextextended('meter-customer:' || v_candidate.stripe_customer_id, 0));
    insert into public.meter_customer_leases as l (stripe_customer_id, leased_by, leased_until)
      values (v_candidate.stripe_customer_id, p_runner, now() + make_interval(secs => p_lease_seconds))
      on conflict (stripe_customer_id) do update
        set leased_by = excluded.leased_by, leased_until = excluded.leased_until
        -- Free once it ran out, or once its holder no longer leases a batch of the customer (the
        -- batch lease is the truth: settled, or ended by an operator after a run died).
        where l.leased_until < now() or not exists (select 1 from public.usage_batches h
          where h.stripe_customer_id = l.stripe_customer_id and h.leased_by = l.leased_by
            and h.leased_until >= now());
    continue when not found;
    perform 1 from public.usage_batches b
      where b.id = v_candidate.id and b.status = 'pending' and (b.leased_until is null or b.leased_until < now())
      for update skip locked;
    if not found then
      delete from public.meter_customer_leases l
        where l.stripe_customer_id = v_candidate.stripe_customer_id and l.leased_by = p_runner;
      continue;
    end if;
    v_claimed := v_claimed || v_candidate.id;
  end loop;

  with claimed as (
    update public.usage_batches b
      set leased_by = p_runner, leased_until = now() + make_interval(secs => p_lease_seconds),
        attempts = b.attempts + 1, first_attempt_at = coalesce(b.first_attempt_at, now()),
        last_attempt_at = now()
    where b.id = any (v_claimed)
    returning b.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', c.id, 'stripe_customer_id', c.stripe_customer_id, 'units', c.units,
      -- Whole seconds, rounded down: rounding up could move an event just before a period
      -- boundary into the next period.
      'event_timestamp', floor(extract(epoch from c.event_timestamp))::bigint, 'attempts', c.attempts)
      order by c.created_at), '[]'::jsonb)
  into v_rows from claimed c;
  return v_rows;
end
$$;

-- As 0003, and the settled batches' customers are free again for the next event.
create or replace function public.settle_usage_batches(p_runner text, p_outcomes jsonb) returns integer
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

  delete from public.meter_customer_leases l
    using public.usage_batches b, jsonb_to_recordset(p_outcomes) as o(id text)
    where b.id = o.id and l.stripe_customer_id = b.stripe_customer_id and l.leased_by = p_runner;
  return v_count + v_rows;
end
$$;

-- Records one asynchronous meter error report (a v2 event fetched by id) and dead-letters the
-- batches its sample errors name, with Stripe's reason. p_report: {id, type, meter, summary,
-- error_count, validation_start, validation_end (ISO), samples: [{identifier, code, message}]}.
-- Exactly once per event id. Returns {duplicate, samples, batches_dead, unmatched}.
create function public.record_meter_error_report(p_report jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_id text := p_report->>'id';
  v_samples integer;
  v_dead integer;
  v_matched integer;
begin
  insert into public.meter_error_reports (event_id, type, meter_id, summary, error_count, validation_start, validation_end)
    values (v_id, p_report->>'type', p_report->>'meter', left(p_report->>'summary', 1000),
      coalesce((p_report->>'error_count')::integer, 0),
      (p_report->>'validation_start')::timestamptz, (p_report->>'validation_end')::timestamptz)
    on conflict (event_id) do nothing;
  if not found then
    return jsonb_build_object('duplicate', true, 'samples', 0, 'batches_dead', 0, 'unmatched', 0);
  end if;

  insert into public.meter_error_samples (event_id, identifier, code, message, batch_id)
    select distinct on (s.identifier) v_id, s.identifier, coalesce(s.code, 'unknown'), left(s.message, 500), b.id
    from jsonb_to_recordset(coalesce(p_report->'samples', '[]'::jsonb)) as s(identifier text, code text, message text)
    left join public.usage_batches b on b.id = substring(s.identifier from '^(smu_[0-9a-f]{32})(_p[0-9]+)?$')
    where coalesce(s.identifier, '') <> ''
    order by s.identifier;
  get diagnostics v_samples = row_count;
  select count(*) into v_matched from public.meter_error_samples s where s.event_id = v_id and s.batch_id is not null;

  update public.usage_batches b
    set status = 'dead', dead_at = now(), leased_by = null, leased_until = null,
      dead_reason = left('Stripe rejected the meter event after accepting it (' || s.code || '): '
        || coalesce(s.message, 'no message') || ' [event ' || v_id || ']', 500)
    from public.meter_error_samples s
    where s.event_id = v_id and s.batch_id = b.id and b.status in ('sent', 'pending');
  get diagnostics v_dead = row_count;
  return jsonb_build_object('duplicate', false, 'samples', v_samples, 'batches_dead', v_dead,
    'unmatched', v_samples - v_matched);
end
$$;

-- Asynchronous meter errors for the reconciliation: per customer and month, the batches Stripe
-- rejected after accepting them; and the reports received in [p_from, p_to) with their error
-- counts, and sampled identifiers that match no batch of ours.
create function public.meter_error_summary(p_from timestamptz, p_to timestamptz, p_customer text default null)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'rows', coalesce((
      select jsonb_agg(jsonb_build_object('stripe_customer_id', x.stripe_customer_id, 'period', x.period,
          'batches', x.batches, 'units', x.units) order by x.stripe_customer_id, x.period)
      from (
        select b.stripe_customer_id, b.period, count(distinct b.id) as batches, sum(b.units) as units
        from public.usage_batches b
        where b.status = 'dead' and exists (select 1 from public.meter_error_samples s where s.batch_id = b.id)
          and b.event_timestamp >= p_from and b.event_timestamp < p_to
          and (p_customer is null or b.stripe_customer_id = p_customer)
        group by b.stripe_customer_id, b.period
      ) x), '[]'::jsonb),
    'reports', (select count(*) from public.meter_error_reports r where r.received_at >= p_from and r.received_at < p_to),
    'errors', (select coalesce(sum(r.error_count), 0) from public.meter_error_reports r
      where r.received_at >= p_from and r.received_at < p_to),
    'unmatched_samples', (select count(*) from public.meter_error_samples s
      join public.meter_error_reports r on r.event_id = s.event_id
      where s.batch_id is null and r.received_at >= p_from and r.received_at < p_to)
  )
$$;

revoke all on function
  public.record_billing_periods(jsonb),
  public.billing_segment_start(text, timestamptz),
  public.record_meter_error_report(jsonb),
  public.meter_error_summary(timestamptz, timestamptz, text)
from public, anon, authenticated;

grant execute on function
  public.record_billing_periods(jsonb),
  public.billing_segment_start(text, timestamptz),
  public.record_meter_error_report(jsonb),
  public.meter_error_summary(timestamptz, timestamptz, text)
to service_role;

create table public.meter_corrections (
  -- The correcting meter event's identifier: 'smc_' and 32 hex digits of a SHA-256 of what was compared.
  identifier text primary key check (identifier ~ '^smc_[0-9a-f]{32}$'),
  stripe_customer_id text not null,
  period text not null check (period ~ '^\d{4}-\d{2}$'),
  window_start timestamptz not null,
  window_end timestamptz not null,
  expected bigint not null,
  observed bigint not null,
  -- expected - observed: what the event adds to Stripe's total (negative takes units back).
  value bigint not null check (value <> 0),
  event_timestamp timestamptz not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  last_error text
);
create index meter_corrections_customer_idx on public.meter_corrections (stripe_customer_id, period);
alter table public.meter_corrections enable row level security;
revoke all on public.meter_corrections from public, anon, authenticated;

-- What Stripe should hold per customer and UTC month of the event timestamp, over [p_from, p_to)
-- (minute-aligned by the caller): the units of sent batches, how many were sent at or after
-- p_settled_before (Stripe may not have aggregated them yet), and the corrections sent so far.
create function public.stripe_reconciliation_ledger(
  p_from timestamptz, p_to timestamptz, p_customer text default null, p_settled_before timestamptz default now()
) returns jsonb
language sql stable security definer set search_path = '' as $$
  with sent as (
    select b.stripe_customer_id, date_trunc('second', b.event_timestamp) as ts, b.units, b.sent_at
    from public.usage_batches b
    where b.status = 'sent' and date_trunc('second', b.event_timestamp) >= p_from
      and date_trunc('second', b.event_timestamp) < p_to
      and (p_customer is null or b.stripe_customer_id = p_customer)
  ), per as (
    select s.stripe_customer_id, to_char(s.ts at time zone 'UTC', 'YYYY-MM') as period,
      greatest(p_from, min(date_trunc('month', s.ts at time zone 'UTC') at time zone 'UTC')) as window_start,
      least(p_to, min((date_trunc('month', s.ts at time zone 'UTC') + interval '1 month') at time zone 'UTC')) as window_end,
      sum(s.units)::bigint as reported, count(*)::integer as batches,
      count(*) filter (where s.sent_at >= p_settled_before)::integer as unsettled_batches
    from sent s
    group by s.stripe_customer_id, to_char(s.ts at time zone 'UTC', 'YYYY-MM')
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'stripe_customer_id', p.stripe_customer_id, 'period', p.period,
      'window_start', extract(epoch from p.window_start)::bigint,
      'window_end', extract(epoch from p.window_end)::bigint,
      'reported', p.reported, 'batches', p.batches, 'unsettled_batches', p.unsettled_batches,
      'corrections_sent', (select count(*) from public.meter_corrections c
        where c.stripe_customer_id = p.stripe_customer_id and c.period = p.period and c.status = 'sent'),
      'last_correction_at', (select max(c.created_at) from public.meter_corrections c
        where c.stripe_customer_id = p.stripe_customer_id and c.period = p.period and c.status <> 'failed'))
      order by p.stripe_customer_id, p.period), '[]'::jsonb)
  from per p
$$;

-- Records a correction before it is sent. Returns its status: 'pending' when new (send it), or
-- the status of the same correction recorded earlier.
create function public.record_meter_correction(p_correction jsonb) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_status text;
begin
  insert into public.meter_corrections (identifier, stripe_customer_id, period, window_start, window_end,
      expected, observed, value, event_timestamp)
    values (p_correction->>'identifier', p_correction->>'stripe_customer_id', p_correction->>'period',
      to_timestamp((p_correction->>'window_start')::bigint), to_timestamp((p_correction->>'window_end')::bigint),
      (p_correction->>'expected')::bigint, (p_correction->>'observed')::bigint, (p_correction->>'value')::bigint,
      to_timestamp((p_correction->>'event_timestamp')::bigint))
    on conflict (identifier) do nothing;
  if found then return 'pending'; end if;
  select c.status into v_status from public.meter_corrections c where c.identifier = p_correction->>'identifier';
  return v_status;
end
$$;

-- What Stripe answered to a correction: 'sent' or 'failed' (with the error; it may be sent again).
create function public.settle_meter_correction(p_identifier text, p_status text, p_error text default null)
returns integer
language sql security definer set search_path = '' as $$
  with updated as (
    update public.meter_corrections c
      set status = p_status, sent_at = case when p_status = 'sent' then now() end, last_error = left(p_error, 500)
      where c.identifier = p_identifier and c.status <> 'sent' and p_status in ('sent', 'failed')
    returning 1
  )
  select count(*)::integer from updated
$$;

revoke all on function
  public.stripe_reconciliation_ledger(timestamptz, timestamptz, text, timestamptz),
  public.record_meter_correction(jsonb),
  public.settle_meter_correction(text, text, text)
from public, anon, authenticated;

grant execute on function
  public.stripe_reconciliation_ledger(timestamptz, timestamptz, text, timestamptz),
  public.record_meter_correction(jsonb),
  public.settle_meter_correction(text, text, text)
to service_role;
