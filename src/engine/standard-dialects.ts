/**
 * The standard dialects: the drafts' metaschema URIs (and the spellings real schemas use for them),
 * their bundled metaschema documents and the vocabularies a dialect has.
 */
import type { Draft } from "./draft";
import { draft04 } from "./metaschemas/draft-04";
import { draft06 } from "./metaschemas/draft-06";
import { draft07 } from "./metaschemas/draft-07";
import { draft2019_09 } from "./metaschemas/draft-2019-09";
import { draft2020_12 } from "./metaschemas/draft-2020-12";

/** Which vocabularies are active for a schema resource (2019-09 and later; all on for older drafts). */
export interface Vocabularies {
  applicator: boolean;
  unevaluated: boolean;
  validation: boolean;
  format: boolean;
  formatAssertion: boolean;
  content: boolean;
  metaData: boolean;
}

/** A dialect: the draft plus its vocabularies and the metaschema that describes it. */
export interface Dialect {
  draft: Draft;
  vocab: Vocabularies;
  metaschema: string;
}

export const ALL_VOCABS: Vocabularies = {
  applicator: true,
  unevaluated: true,
  validation: true,
  format: true,
  formatAssertion: false,
  content: true,
  metaData: true,
};

/** Canonical metaschema URIs of the supported drafts. */
export const DRAFT_URIS: Record<Draft, string> = {
  4: "http://json-schema.org/draft-04/schema",
  6: "http://json-schema.org/draft-06/schema",
  7: "http://json-schema.org/draft-07/schema",
  2019: "https://json-schema.org/draft/2019-09/schema",
  2020: "https://json-schema.org/draft/2020-12/schema",
};

/**
 * `$schema` spellings real schemas use for the standard drafts besides the canonical ones: the other
 * scheme (`https://json-schema.org/draft-07/schema`, as TypeDoc writes it), and the bare
 * `http://json-schema.org/schema` of Angular, Nx and NestJS schematics. That URI once served the
 * newest draft, which was draft-07 when those schemas were written; their authors validate them
 * with draft-07 semantics, so they are read as draft-07.
 */
const DRAFT_URI_ALIASES: Record<string, Draft> = {
  "https://json-schema.org/draft-04/schema": 4,
  "https://json-schema.org/draft-06/schema": 6,
  "https://json-schema.org/draft-07/schema": 7,
  "http://json-schema.org/draft/2019-09/schema": 2019,
  "http://json-schema.org/draft/2020-12/schema": 2020,
  "http://json-schema.org/schema": 7,
  "https://json-schema.org/schema": 7,
};

const KNOWN_DIALECTS = new Map<string, Draft>([
  ...(Object.entries(DRAFT_URIS) as Array<[string, string]>).map(
    ([d, u]) => [u, Number(d) as Draft] as const,
  ),
  ...Object.entries(DRAFT_URI_ALIASES),
]);

/** Every bundled metaschema document, by URI. */
export const BUNDLED: ReadonlyMap<string, unknown> = new Map<string, unknown>(
  Object.entries({ ...draft04, ...draft06, ...draft07, ...draft2019_09, ...draft2020_12 }),
);

/** Strips an empty fragment: `http://x/schema#` and `http://x/schema` name the same resource. */
export function normalizeId(uri: string): string {
  return uri.endsWith("#") ? uri.slice(0, -1) : uri;
}

/** The known draft for a `$schema` URI, or undefined. */
export function knownDraft(uri: string): Draft | undefined {
  return KNOWN_DIALECTS.get(normalizeId(uri));
}

/** The standard dialect of a draft. */
export function standardDialect(draft: Draft): Dialect {
  return { draft, vocab: ALL_VOCABS, metaschema: DRAFT_URIS[draft] };
}
