/** What billing decided about one account, as the hot path must see it (from Postgres, versioned). */
export interface EdgeState {
  subject: string;
  tier: string;
  /** Refuse every token of the subject (access revoked, or past due beyond the grace period). */
  deny: boolean;
  /** The account's billing version; grows with every change, so Redis keeps the newest state. */
  version: number;
}
