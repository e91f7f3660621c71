-- 0006 Usage batches for operators: look up and list the flusher's batches, so a dead-lettered one
-- can be found, its cause fixed (e.g. the customer created in Stripe) and it requeued with
-- `requeue_dead_usage_batch` (0003), which keeps the batch's identifier: Stripe deduplicates a
-- resend of an event it already has, so requeueing can never bill twice within its dedupe window.
-- Read-only: nothing here changes the ledger.

-- One batch by id, or null when there is none.
create function public.get_usage_batch(p_id text) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object('id', b.id, 'stripe_customer_id', b.stripe_customer_id, 'period', b.period,
      'units', b.units, 'record_count', b.record_count, 'status', b.status, 'attempts', b.attempts,
      'created_at', b.created_at, 'last_attempt_at', b.last_attempt_at, 'next_attempt_at', b.next_attempt_at,
      'sent_at', b.sent_at, 'last_error', b.last_error, 'dead_reason', b.dead_reason, 'dead_at', b.dead_at)
  from public.usage_batches b where b.id = p_id
$$;

-- Batches of one status (every status when null), newest first, at most p_limit (1 to 1000).
create function public.list_usage_batches(p_status text default null, p_limit integer default 100)
returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(public.get_usage_batch(b.id) order by b.created_at desc, b.id), '[]'::jsonb)
  from (
    select b.id, b.created_at from public.usage_batches b
    where p_status is null or b.status = p_status
    order by b.created_at desc, b.id
    limit greatest(1, least(coalesce(p_limit, 100), 1000))
  ) b
$$;

revoke all on function
  public.get_usage_batch(text),
  public.list_usage_batches(text, integer)
from public, anon, authenticated;

grant execute on function
  public.get_usage_batch(text),
  public.list_usage_batches(text, integer)
to service_role;
