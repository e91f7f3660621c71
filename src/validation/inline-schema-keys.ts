/**
 * The compiled-schema cache keys of an inline schema (one per `format_assertion` value), checking
 * its depth and size the first time it is seen.
 *
 * An inline schema is keyed by its canonical text, memoised by its plain JSON.stringify text: the
 * same schema sent again (the common case) costs one native stringify and one lookup instead of a
 * depth walk, a key-sorting walk and hashing a freshly built key. For a JSON value (a parsed body:
 * no undefined, functions or toJSON) equal stringify text means an equal value, so an equal
 * canonical text; the keys are the same string objects every time, so the map does not hash them
 * again.
 */
import { canonicalJson } from "../engine";
import { BoundedLru } from "../lib/bounded-lru";
import { sourceTextOf } from "../lib/json-slices";
import { exceedsDepth, exceedsDepthSharing } from "../lib/json-text";
import { yieldThread } from "../lib/yield-thread";
import { schemaTooDeep, ValidationRefusal } from "./refusal";

/** Text bytes past which an inline schema is large: keyed by its text as sent, with pauses around. */
export const LARGE_SCHEMA_BYTES = 256 * 1024;

/** Bound of the memo (UTF-16 bytes of its texts and keys). */
const INLINE_KEYS_MEMO_MAX_BYTES = 16 * 1024 * 1024;

export interface InlineSchemaKeys {
  /** Bytes of the key's text, counted against the cache's byte bound; over LARGE_SCHEMA_BYTES,
   * keying it was a stretch of work of its own. */
  canonicalBytes: number;
  annotate: string;
  assert: string;
}

export function inlineSchemaKeys(limits: { maxEntries: number; maxSchemaBytes: number; maxDepth: number }) {
  const memo = new BoundedLru<InlineSchemaKeys>(limits.maxEntries, INLINE_KEYS_MEMO_MAX_BYTES);

  return async function inlineKeysOf(schema: unknown): Promise<InlineSchemaKeys> {
    let text: string | undefined;
    try {
      // A multi-MB schema from a large body is keyed by its text as sent (writing it again is a
      // stretch of about 40 ms for 3.7 MB): the same text is always the same schema.
      text = sourceTextOf(schema) ?? JSON.stringify(schema);
    } catch {
      // A RangeError for nesting too deep to stringify: refused by the depth check below.
    }
    const large = text !== undefined && text.length > LARGE_SCHEMA_BYTES;
    if (large) await yieldThread();
    const known = text === undefined ? undefined : memo.get(text);
    if (known) return known;
    if (large ? await exceedsDepthSharing(schema, limits.maxDepth) : exceedsDepth(schema, limits.maxDepth))
      throw schemaTooDeep("The schema", limits.maxDepth);
    // A large schema is keyed by its text as sent: its canonical text would cost a long stretch of
    // work (about 0.2 s for 3.7 MB here) on every call, as its keys are too large to memoise; the
    // same schema with its keys in another order is then compiled again, once.
    const canonical = large ? undefined : canonicalJson(schema);
    const keyText = canonical ?? (text as string);
    if (keyText.length > limits.maxSchemaBytes) {
      throw new ValidationRefusal(
        "LIMIT_EXCEEDED",
        `The schema is larger than ${limits.maxSchemaBytes} bytes.`,
        {
          limit: "max_schema_bytes",
        },
      );
    }
    // Keyed by the canonical text itself: the Map hashes it natively, several times faster than a
    // SHA-256 digest per request, and the key's size is counted against the byte bound.
    const kind = canonical === undefined ? "inline-text" : "inline";
    const keys: InlineSchemaKeys = {
      canonicalBytes: keyText.length,
      annotate: `${kind}|false|${keyText}`,
      assert: `${kind}|true|${keyText}`,
    };
    if (text !== undefined && canonical !== undefined)
      memo.set(text, keys, 2 * (text.length + 2 * canonical.length));
    return keys;
  };
}
