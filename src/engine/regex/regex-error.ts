/** Why a pattern could not be compiled. */
export class RegexError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: "syntax" | "unsupported",
    message: string,
  ) {
    super(message);
    this.name = "RegexError";
  }
}
