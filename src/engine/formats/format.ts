/** One format: its check and, where enrichment has a canonical form for it, its normalisation. */
export interface FormatDefinition {
  /** True when the string is valid for the format. */
  readonly check: (s: string) => boolean;
  /** The normalised form of a valid string (enrichment). Default: unchanged. */
  readonly normalize?: (s: string) => string;
}
