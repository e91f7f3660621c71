import { type JsonSyntaxLocation, parseJsonText } from "./json-text";

// Hints for the mistakes people make writing a request body by hand: what a JSON parser says
// ("unexpected character") rarely says what to change.

/** A malformed body's position and what probably went wrong there. */
export interface MalformedBody {
  line: number;
  column: number;
  detail: string;
  hint?: string;
}

const PREVIOUS_TOKEN = /[^\s]/;

function previousToken(text: string, offset: number): string | undefined {
  for (let i = offset - 1; i >= 0; i--) if (PREVIOUS_TOKEN.test(text[i] as string)) return text[i];
  return undefined;
}

/**
 * Where a body stops being JSON, and a hint for trailing commas, single quotes, unquoted keys, ...
 * `location`: where it stops, when that was found already (a large body, parsed in slices).
 */
export function describeMalformedBody(text: string, location?: JsonSyntaxLocation): MalformedBody {
  if (text.trim() === "")
    return { line: 1, column: 1, detail: "The request body is empty.", hint: "Send a JSON object." };
  let found = location;
  if (!found) {
    const parsed = parseJsonText(text);
    if (parsed.ok) return { line: 1, column: 1, detail: "The request body is not valid JSON." };
    found = parsed.error;
  }
  const { line, column, offset, message } = found;
  const char = text[offset];
  const before = previousToken(text, offset);
  let hint: string | undefined;
  if ((char === "}" || char === "]") && before === ",")
    hint = `Trailing comma: remove the "," before "${char}" (JSON allows none).`;
  else if (char === "'") hint = "JSON strings and keys take double quotes, not single quotes.";
  else if (char !== undefined && /[A-Za-z_$]/.test(char) && (before === "{" || before === ","))
    hint = 'Object keys must be quoted: write "name": 1, not name: 1.';
  else if (char === "/") hint = "JSON has no comments.";
  else if (char !== undefined && /[A-Za-z]/.test(char))
    hint = "Strings take double quotes; the literals are true, false and null (lower case).";
  else if (char === undefined) hint = "The body ends early: close every object and array (and string).";
  return {
    line,
    column,
    hint,
    detail: `The request body is not valid JSON: ${message} at line ${line}, column ${column}.`,
  };
}

/** Hints for a body that is JSON but has the wrong shape: a schema sent as a string, and the like. */
export function shapeHints(body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return [];
  const hints: string[] = [];
  const { schema, json } = body as Record<string, unknown>;
  if (typeof schema === "string") {
    const parsed = parseJsonText(schema);
    hints.push(
      parsed.ok && typeof parsed.value === "object"
        ? '"schema" is a string holding JSON: send the schema itself as a JSON object, without quotes around it (or its URL as "schema_url").'
        : '"schema" takes a JSON Schema object (or a boolean); to fetch a schema by URL, send "schema_url".',
    );
  }
  if (json !== undefined && typeof json !== "string")
    hints.push('"json" takes the document as JSON text (a string); send a parsed document as "data".');
  return hints;
}
