import type { Check, Node, SchemaLocation } from "./context";
import type { JsonObject } from "./json";
import type { CompiledPattern } from "./regex";
import type { Draft, Resource, SchemaTarget } from "./registry";

// A keyword implementation is data plus one compile function, as in hyperjump's lib/keywords and
// ajv's vocabularies: the dialect tables (dialects/) say which keywords a draft has, the keyword
// says which instances it applies to, and the compiler dispatches on the instance's JSON type.

/** The JSON type of instance a keyword's check runs on; other instances pass it untouched. */
export type InstanceKind = "any" | "string" | "number" | "object" | "array";

/** A compiled reference target: its node, its pointer length (for error frames) and its resource. */
export interface ReferenceTarget {
  node: Node;
  base: number;
  resource: Resource;
}

/** What a keyword's compile function may ask of the compiler, for the schema being compiled. */
export interface SchemaCompiler {
  /** The subschema being compiled. */
  readonly target: SchemaTarget;
  /** Whether this compilation tracks evaluated properties/items (some schema uses unevaluated*). */
  readonly tracksEvaluation: boolean;
  /** Whether this compilation has $dynamicRef/$recursiveRef, so resources enter the dynamic scope. */
  readonly usesDynamicScope: boolean;
  /** Whether `format` asserts here (the compile option, or the format-assertion vocabulary). */
  readonly assertsFormat: boolean;
  /** The location of one of this schema's keywords. */
  location(keyword: string): SchemaLocation;
  /** The compiled subschema at `keyword/token/...` below this schema. */
  subschema(...tokens: Array<string | number>): Node;
  /** Object.keys of an object of the schema, without enumerating one whose keys are known. */
  keysOf(object: JsonObject): readonly string[];
  /** About to make `count` subschemas: throws now the limit making them would reach. */
  expectSubschemas(count: number): void;
  /** The compiled node of a located subschema. */
  node(target: SchemaTarget): Node;
  /** Resolves a reference against this schema's base URI; throws SchemaError when it cannot. */
  resolve(reference: string, keyword: string): SchemaTarget;
  /**
   * Every resource that declares a dynamic (or recursive) anchor, with the anchor's subschema
   * compiled. `fragmentOf` gives the anchor's fragment in a resource, or undefined where it has none.
   */
  anchorTargets(fragmentOf: (resource: Resource) => string | undefined): Map<Resource, ReferenceTarget>;
  /** Compiles a `pattern`-like regular expression; throws SchemaError for refused ones. */
  pattern(source: string): CompiledPattern;
}

/** One keyword's implementation. */
export interface KeywordDefinition {
  /** The keyword's name in a schema. */
  readonly keyword: string;
  /** Sibling keywords this implementation also reads and runs for (`patternProperties` with `properties`). */
  readonly alsoFor?: readonly string[];
  /** The instances the check applies to. */
  readonly instance: InstanceKind;
  /** The drafts whose dialect tables list this implementation. */
  readonly drafts: readonly Draft[];
  /** Runs after the other keywords of its schema (unevaluated*, which need their results). */
  readonly late?: boolean;
  /** For `type`: the JSON types allowed, as TYPE_BITS, folded into the compiler's type dispatch. */
  readonly typeMask?: (value: unknown) => number;
  /**
   * The validation check, or null when the keyword has nothing to check here. A map-valued keyword
   * (dependentRequired) may give one check per entry, composed like separate keywords.
   */
  compile?(value: unknown, schema: JsonObject, compiler: SchemaCompiler): Check | readonly Check[] | null;
  /** The enrichment check collecting annotations of a valid instance, or null. */
  annotate?(value: unknown, schema: JsonObject, compiler: SchemaCompiler): Check | null;
}

/** The JSON type bits of the compiler's dispatch ("integer" is a number that is an integer). */
export const TYPE_BITS: Readonly<Record<string, number>> = {
  null: 1,
  boolean: 2,
  object: 4,
  array: 8,
  number: 16,
  string: 32,
  integer: 64,
};
