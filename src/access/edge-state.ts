import { z } from "zod";

/** What billing decided about one account, as the hot path must see it (from Postgres, versioned). */
export interface EdgeState {
  subject: string;
  tier: string;
  /** The account's Stripe customer, once a checkout linked one; null (or absent) before. */
  customer?: string | null;
  /** Refuse every token of the subject (access revoked, or past due beyond the grace period). */
  deny: boolean;
  /** The account's billing version; grows with every change, so Redis keeps the newest state. */
  version: number;
}

/** One edge state as `billing_edge_state` (migrations/0004, 0008) returns it. */
export const edgeStateRowSchema = z.object({
  account_id: z.string(),
  tier: z.string(),
  customer: z.string().nullable().default(null),
  deny: z.boolean(),
  version: z.coerce.number(),
});

/** The EdgeState of a `billing_edge_state` row. */
export const edgeStateOf = (row: z.infer<typeof edgeStateRowSchema>): EdgeState => ({
  subject: row.account_id,
  tier: row.tier,
  customer: row.customer,
  deny: row.deny,
  version: row.version,
});
