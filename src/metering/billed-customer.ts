import { getAccount } from "../access/accounts";
import type { DatabaseAdapter } from "../adapters/supabase";
import type { UsageRecord } from "./usage-record";

/**
 * `record` with the Stripe customer a timed-out admission script may have billed it to. The script
 * bills billing's customer override when one is set, which mirrors the account's customer in
 * Postgres; a token minted before the account's first checkout carries none. A compensation must
 * name the same customer as its admission (the ledger nets them per customer), so a record without
 * one takes the account's. Customer ids never change once linked, so a record that has one keeps it.
 * Never throws: without an answer from Postgres the record is kept as it is.
 */
export async function withBilledCustomer(db: DatabaseAdapter, record: UsageRecord): Promise<UsageRecord> {
  if (record.stripeCustomerId !== null) return record;
  try {
    const account = await getAccount(db, record.subject);
    return account?.stripe_customer_id ? { ...record, stripeCustomerId: account.stripe_customer_id } : record;
  } catch {
    return record;
  }
}
