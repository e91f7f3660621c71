import { RegexError } from "./regex-error";

// ECMA general category names and aliases to the short names RE2 knows.
const GENERAL_CATEGORIES: Record<string, string> = {
  L: "L",
  Letter: "L",
  Lu: "Lu",
  Uppercase_Letter: "Lu",
  Ll: "Ll",
  Lowercase_Letter: "Ll",
  Lt: "Lt",
  Titlecase_Letter: "Lt",
  Lm: "Lm",
  Modifier_Letter: "Lm",
  Lo: "Lo",
  Other_Letter: "Lo",
  M: "M",
  Mark: "M",
  Combining_Mark: "M",
  Mn: "Mn",
  Nonspacing_Mark: "Mn",
  Mc: "Mc",
  Spacing_Mark: "Mc",
  Me: "Me",
  Enclosing_Mark: "Me",
  N: "N",
  Number: "N",
  Nd: "Nd",
  Decimal_Number: "Nd",
  digit: "Nd",
  Nl: "Nl",
  Letter_Number: "Nl",
  No: "No",
  Other_Number: "No",
  P: "P",
  Punctuation: "P",
  punct: "P",
  Pc: "Pc",
  Connector_Punctuation: "Pc",
  Pd: "Pd",
  Dash_Punctuation: "Pd",
  Ps: "Ps",
  Open_Punctuation: "Ps",
  Pe: "Pe",
  Close_Punctuation: "Pe",
  Pi: "Pi",
  Initial_Punctuation: "Pi",
  Pf: "Pf",
  Final_Punctuation: "Pf",
  Po: "Po",
  Other_Punctuation: "Po",
  S: "S",
  Symbol: "S",
  Sm: "Sm",
  Math_Symbol: "Sm",
  Sc: "Sc",
  Currency_Symbol: "Sc",
  Sk: "Sk",
  Modifier_Symbol: "Sk",
  So: "So",
  Other_Symbol: "So",
  Z: "Z",
  Separator: "Z",
  Zs: "Zs",
  Space_Separator: "Zs",
  Zl: "Zl",
  Line_Separator: "Zl",
  Zp: "Zp",
  Paragraph_Separator: "Zp",
  C: "C",
  Other: "C",
  Cc: "Cc",
  Control: "Cc",
  cntrl: "Cc",
  Cf: "Cf",
  Format: "Cf",
  Cs: "Cs",
  Surrogate: "Cs",
  Co: "Co",
  Private_Use: "Co",
};

/** The RE2 text of an ECMA `\\p{…}` / `\\P{…}` body; throws RegexError for properties RE2 lacks. */
export function translateProperty(body: string, negated: boolean, pattern: string): string {
  let name = body;
  const eq = body.indexOf("=");
  let kind: "gc" | "script" | "any" = "any";
  if (eq >= 0) {
    const key = body.slice(0, eq);
    name = body.slice(eq + 1);
    if (key === "General_Category" || key === "gc") kind = "gc";
    else if (key === "Script" || key === "sc") kind = "script";
    else throw new RegexError(pattern, "unsupported", `Unicode property \\p{${body}} is not supported`);
  }
  const p = negated ? "P" : "p";
  if (kind !== "script") {
    const gc = GENERAL_CATEGORIES[name];
    if (gc) return `\\${p}{${gc}}`;
    if (kind === "any") {
      if (name === "Any") return negated ? `[^\\x{0}-\\x{10ffff}]` : `[\\x{0}-\\x{10ffff}]`;
      if (name === "ASCII") return negated ? `[^\\x{0}-\\x{7f}]` : `[\\x{0}-\\x{7f}]`;
    }
    throw new RegexError(pattern, "unsupported", `Unicode property \\p{${body}} is not supported`);
  }
  if (!/^[A-Za-z_]+$/.test(name)) throw new RegexError(pattern, "syntax", `bad script name ${name}`);
  return `\\${p}{${name}}`;
}
