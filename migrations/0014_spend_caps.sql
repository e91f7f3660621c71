-- 0014 Monthly spend caps (issue 16 item 5): a paying account may cap the units it is billed per
-- UTC calendar month (PUT /v1/account/spend-cap); null (the default) is no cap.
--
-- * Postgres is the source of truth. The Worker mirrors the cap into Redis (`sm:cap:<account id>`)
--   after this commits, and again at every token exchange and API key entry fill (both read the
--   account through account_json, which now carries it), so admission reads it in its one round trip.
-- * The cap is in units, the unit the meter and Stripe's price use; 0 stops every billed call.
-- * `spend_cap_version` grows with every change, and the mirror is written only if its version is
--   not older than the one Redis holds (as billing's edge state), so a token exchange that read the
--   account just before a change cannot overwrite the change's mirror with the old cap.
-- * Who may set one (a paying tier with a Stripe customer) is the Worker's rule, as the tiers sold
--   are configuration (BILLING_PRICE_LOOKUP_KEYS), not data; this function only stores it.

alter table public.accounts
  add column spend_cap_units bigint check (spend_cap_units is null or spend_cap_units >= 0),
  add column spend_cap_version bigint not null default 0;

-- One account as the API and the operator scripts see it, now with its spend cap.
create or replace function public.account_json(a public.accounts) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', a.id, 'email', a.email, 'stripe_customer_id', a.stripe_customer_id, 'tier', a.tier,
    'status', a.status, 'grace_until', a.grace_until, 'created_at', a.created_at,
    'spend_cap_units', a.spend_cap_units, 'spend_cap_version', a.spend_cap_version)
$$;

-- Sets (p_units) or removes (null) the account's spend cap; the account as account_json shows it,
-- or null when there is no such account.
create function public.set_spend_cap(p_account_id uuid, p_units bigint) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_account public.accounts;
begin
  update public.accounts a set spend_cap_units = p_units, spend_cap_version = a.spend_cap_version + 1
    where a.id = p_account_id returning * into v_account;
  if not found then return null; end if;
  return public.account_json(v_account);
end
$$;

revoke all on function public.set_spend_cap(uuid, bigint) from public, anon, authenticated;
grant execute on function public.set_spend_cap(uuid, bigint) to service_role;
