import { assemble, type CompiledKeyword } from "./assemble";
import { COMPILE_UNITS_PER_SUBSCHEMA, type CompileBudget } from "./compile-budget";
import { type Check, type Node, report, SchemaLocation } from "./context";
import { ANNOTATION_ORDER, DIALECT_KEYWORDS, VALIDATION_ORDER, type VocabularyName } from "./dialects";
import { LATER_KEYWORDS, type LaterKeyword } from "./dialects/later-keywords";
import { RESOURCE_KEYWORDS } from "./dialects/resource-keywords";
import { SchemaError } from "./errors";
import { flagObjectCheck } from "./flag-object-check";
import { scalarRule } from "./flag-scalar-check";
import { isObject, type JsonObject } from "./json";
import type { KeywordDefinition, ReferenceTarget, SchemaCompiler } from "./keyword";
import { type CompiledPattern, compilePattern, RegexError, withLocation } from "./regex";
import type { Dialect, Registry, Resource, SchemaDocument, SchemaTarget } from "./registry";
import { ANY_INSTANCE } from "./scalar-rule";
import { SchemaScope } from "./schema-scope";
import { escapePointerToken, resolveUri, splitFragment } from "./uri";

// The schema is compiled once into a tree of closures, one per keyword, with constants hoisted.
// Validation calls them; nothing is generated as code (Workers forbid eval and new Function).
// Which keywords a schema has comes from its dialect's table (dialects/); what each does, from
// its file under keywords/; this file only assembles their checks.

/** Options fixed at compile time. */
export interface CompileSettings {
  formatAssertion: boolean;
  /** Spent per subschema compiled; its weight is checked as the compilation grows. */
  budget: CompileBudget;
  /** Apply later-draft keywords an earlier draft leaves free (dialects/later-keywords.ts); false is `"dialect": "strict"`. */
  laterKeywords: boolean;
}

/** The keywords a dialect has active, in evaluation order. */
interface ActiveKeywords {
  refOverridesSiblings: boolean;
  validation: KeywordDefinition[];
  validationIndex: KeywordIndex;
  annotation: KeywordDefinition[];
  annotationIndex: KeywordIndex;
  /** For a later-draft keyword: whether its value has the shape that makes it apply. */
  applies: Map<KeywordDefinition, LaterKeyword["applies"]>;
}

/** The definitions of `list` that appear in a schema (by their keyword or a sibling they read), in
 * list order. Found from the schema's keys, a few, through `index` (keyword to positions in
 * `list`), rather than by testing each of the dialect's sixty-odd definitions with `in`. */
function presentIn(list: readonly KeywordDefinition[], index: KeywordIndex, schema: JsonObject) {
  // Kept in list order as they are found (a few: an insertion, not a sort), each once.
  const found: number[] = [];
  for (const key in schema) {
    const at = index.get(key);
    if (at === undefined) continue;
    for (const i of at) {
      let j = found.length;
      while (j > 0 && (found[j - 1] as number) > i) j--;
      if (j > 0 && found[j - 1] === i) continue;
      if (j === found.length) found.push(i);
      else found.splice(j, 0, i);
    }
  }
  const definitions: KeywordDefinition[] = [];
  for (const i of found) definitions.push(list[i] as KeywordDefinition);
  return definitions;
}

type KeywordIndex = Map<string, number[]>;

function hasNoKeys(schema: JsonObject): boolean {
  for (const _ in schema) return false;
  return true;
}

function indexOf(list: readonly KeywordDefinition[]): KeywordIndex {
  const index: KeywordIndex = new Map();
  list.forEach((definition, i) => {
    for (const keyword of [definition.keyword, ...(definition.alsoFor ?? [])]) {
      const at = index.get(keyword);
      if (at) at.push(i);
      else index.set(keyword, [i]);
    }
  });
  return index;
}

/** The active keywords by a dialect's vocabularies (fixed once the dialect is made), draft and
 * `laterKeywords`: worked out once per isolate, not once per compilation. */
const ACTIVE = new WeakMap<Dialect["vocab"], Map<string, ActiveKeywords>>();

/** Work between two pauses of `build` (about 5 ms here); a slice also ends after NODES_PER_SLICE
 * nodes built, as a subschema's units are spent when its parent hands it out (5,000 `$ref`
 * branches cost theirs at once, in the `anyOf` that lists them). */
const UNITS_PER_SLICE = 20_000;
const NODES_PER_SLICE = 500;
/** Members of a `properties` past which its nodes are handed out in slices of this many. */
const WIDE_MEMBERS = 2_000;

/** Compiles located subschemas to nodes; one per compilation (shares the registry). */
export class Compiler {
  /** The nodes handed out, by document and pointer (a pointer's hash is computed once, when the
   * registry or `child` first looks it up). */
  private readonly nodes = new Map<SchemaDocument, Map<string, Node>>();
  private nodesMade = 0;
  /** The nodes of wide `properties` handed out before their schema is compiled, by name. */
  private readonly handedOut = new Map<SchemaTarget, Map<string, Node>>();
  /** Nodes handed out but not built yet: `build` works through them. */
  private readonly unbuilt: Array<{ node: Node; target: SchemaTarget }> = [];
  private lastActive: { dialect: Dialect; active: ActiveKeywords } | undefined;
  readonly tracksEvaluation: boolean;
  readonly usesDynamicScope: boolean;
  /** Whether `format` asserts everywhere (the compile option); a vocabulary may ask for it too. */
  readonly assertsFormat: boolean;

  constructor(
    readonly registry: Registry,
    private readonly settings: CompileSettings,
  ) {
    this.tracksEvaluation = registry.hasUnevaluated;
    this.usesDynamicScope = registry.hasDynamicRefs;
    this.assertsFormat = settings.formatAssertion;
  }

  /** Subschemas compiled so far (every document of the compilation). */
  get nodeCount(): number {
    return this.nodesMade;
  }

  /** The node for a located subschema, built later by `build` (keywords call `validate` only when validating). */
  node(target: SchemaTarget): Node {
    let inDocument = this.nodes.get(target.document);
    if (!inDocument) {
      inDocument = new Map();
      this.nodes.set(target.document, inDocument);
    }
    const hit = inDocument.get(target.pointer);
    if (hit) return hit;
    const node: Node = { validate: () => true, scalar: null, resource: target.resource };
    inDocument.set(target.pointer, node);
    this.nodesMade++;
    this.settings.budget.spend(COMPILE_UNITS_PER_SUBSCHEMA);
    this.settings.budget.checkWeight(this.nodesMade, this.registry.documentBytes);
    this.unbuilt.push({ node, target });
    return node;
  }

  /**
   * Throws now what handing out `count` more nodes would (the work budget's or the weight's
   * limit): a keyword of 90,000 subschemas is refused before the stretch of making them. Nodes
   * already made for some of them (a `$ref` to one) would not count again: this errs by those.
   */
  expectNodes(count: number): void {
    this.settings.budget.afford(count * COMPILE_UNITS_PER_SUBSCHEMA);
    this.settings.budget.checkWeight(this.nodesMade + count, this.registry.documentBytes);
  }

  /** Builds the nodes handed out (and theirs), awaiting `pause` after each slice of work. */
  async build(pause?: () => Promise<void>): Promise<void> {
    const budget = this.settings.budget;
    let sliceStart = budget.used;
    let sliceNodes = 0;
    for (let next = this.unbuilt.pop(); next; next = this.unbuilt.pop()) {
      const wide = pause && this.wideProperties(next.target);
      if (pause && wide) await this.handOutWide(next.target, wide, pause);
      this.compileInto(next.node, next.target);
      this.handedOut.delete(next.target);
      if (pause && (budget.used - sliceStart >= UNITS_PER_SLICE || ++sliceNodes >= NODES_PER_SLICE)) {
        await pause();
        sliceStart = budget.used;
        sliceNodes = 0;
      }
    }
  }

  /**
   * Hands out the nodes of a wide `properties` (one whose keys are known: parsed in slices) before
   * its schema is compiled, in slices with pauses: making 12,000 of them in the keyword's compile
   * is one stretch of 30-60 ms here. The keyword then finds them by name (`subschema`).
   */
  private async handOutWide(
    target: SchemaTarget,
    keys: readonly string[],
    pause: () => Promise<void>,
  ): Promise<void> {
    this.expectNodes(keys.length);
    const nodes = new Map<string, Node>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      nodes.set(key, this.node(this.child(target, ["properties", key])));
      if ((i + 1) % WIDE_MEMBERS === 0) await pause();
    }
    this.handedOut.set(target, nodes);
  }

  /** The keys of `target`'s `properties` when there are more than WIDE_MEMBERS and they are known. */
  private wideProperties(target: SchemaTarget): readonly string[] | undefined {
    const declared = isObject(target.schema) ? target.schema.properties : undefined;
    const keys = isObject(declared) ? this.registry.memberKeys(declared) : undefined;
    return keys !== undefined && keys.length > WIDE_MEMBERS ? keys : undefined;
  }

  /** The located subschema at `tokens` below `target`. */
  child(target: SchemaTarget, tokens: Array<string | number>): SchemaTarget {
    let schema: unknown = target.schema;
    let pointer = target.pointer;
    for (const token of tokens) {
      schema = Array.isArray(schema)
        ? schema[token as number]
        : isObject(schema)
          ? schema[token as string]
          : undefined;
      pointer += `/${typeof token === "number" ? token : escapePointerToken(token)}`;
    }
    const document = target.document;
    const resource =
      document.singleResource ??
      document.resourceByPointer.get(pointer) ??
      this.registry.resourceAt(document, pointer);
    return { document: target.document, pointer: pointer, schema, resource: resource };
  }

  /** Resolves a reference against `target`'s base URI; throws SchemaError when it cannot. */
  resolve(target: SchemaTarget, reference: string, keyword: string): SchemaTarget {
    const base = target.resource.uri;
    const absolute = resolveUri(base, reference);
    const resolved = this.registry.lookup(absolute);
    if (!resolved) {
      const why = this.registry.failures.get(splitFragment(absolute)[0]);
      throw new SchemaError(
        "unresolvable_ref",
        `cannot resolve ${keyword} "${reference}" at ${target.pointer || "/"}: tried ${absolute} (against the base ${base})${why ? `: ${why}` : ""}`,
        [],
        absolute,
        base,
      );
    }
    return resolved;
  }

  /** See SchemaCompiler.anchorTargets. */
  anchorTargets(fragmentOf: (resource: Resource) => string | undefined): Map<Resource, ReferenceTarget> {
    const byResource = new Map<Resource, ReferenceTarget>();
    for (const resource of new Set(this.registry.resources.values())) {
      const fragment = fragmentOf(resource);
      if (fragment === undefined) continue;
      const anchor = this.registry.lookup(`${resource.uri}#${fragment}`);
      if (anchor)
        byResource.set(resource, { node: this.node(anchor), base: anchor.pointer.length, resource });
    }
    return byResource;
  }

  /** Compiles a pattern, turning the translator's refusal into the schema's (naming where it is). */
  pattern(source: string, target?: SchemaTarget): CompiledPattern {
    const at = target ? ` at ${target.pointer || "/"}` : "";
    try {
      const compiled = compilePattern(source);
      this.settings.budget.spend(compiled.compileUnits);
      return withLocation(compiled, at);
    } catch (e) {
      if (e instanceof RegexError) {
        throw new SchemaError(
          e.reason === "syntax" ? "invalid_schema" : "unsupported",
          `pattern ${JSON.stringify(source.length > 80 ? `${source.slice(0, 80)}…` : source)}${at}: ${e.message}`,
        );
      }
      throw e;
    }
  }

  private compileInto(node: Node, target: SchemaTarget): void {
    const schema = target.schema;
    if (schema === true || (isObject(schema) && hasNoKeys(schema))) {
      node.validate = () => true;
      node.scalar = ANY_INSTANCE;
      return;
    }
    if (schema === false) {
      const location = new SchemaLocation(target.pointer, target.resource, "false");
      node.validate = (_instance, context) => {
        if (context.full) report(context, location, "no value is allowed here (the schema is false)");
        return false;
      };
      return;
    }
    if (!isObject(schema)) {
      throw new SchemaError(
        "invalid_schema",
        `schema at ${target.pointer || "/"} must be an object or a boolean`,
      );
    }
    const active = this.activeKeywords(target.resource.dialect);
    const scope = this.scope(target);
    const keywords: CompiledKeyword[] = [];
    const onlyRef = active.refOverridesSiblings && typeof schema.$ref === "string";
    // A keyword's value is read once: a lookup by a varying name is the megamorphic path.
    const laterApply = active.applies.size > 0;
    for (const definition of presentIn(active.validation, active.validationIndex, schema)) {
      if (!definition.compile) continue;
      if (onlyRef && definition.keyword !== "$ref") continue;
      const value = schema[definition.keyword];
      if (laterApply && active.applies.get(definition)?.(value, schema) === false) continue;
      const compiled = definition.compile(value, schema, scope);
      if (compiled === null) continue;
      const typeMask = definition.typeMask?.(value);
      const { instance, late } = definition;
      if (typeof compiled === "function")
        keywords.push({ definition, instance, check: compiled, typeMask, late });
      else for (const check of compiled) keywords.push({ definition, instance, check, typeMask, late });
    }
    const annotations: Check[] = [];
    for (const definition of presentIn(active.annotation, active.annotationIndex, schema)) {
      if (!definition.annotate) continue;
      const value = schema[definition.keyword];
      if (laterApply && active.applies.get(definition)?.(value, schema) === false) continue;
      const check = definition.annotate(value, schema, scope);
      if (check) annotations.push(check);
    }
    const general = assemble(target, keywords, annotations, this);
    node.validate = flagObjectCheck(schema, keywords, scope, this, general) ?? general;
    // Flag mode's walks read a scalar schema's rule instead of calling its assembled check.
    node.scalar = scalarRule(schema, keywords, this);
  }

  /** The definitions a dialect's vocabularies activate, worked out once per dialect. */
  private activeKeywords(dialect: Dialect): ActiveKeywords {
    // A compilation's subschemas are nearly always of one dialect.
    if (this.lastActive?.dialect === dialect) return this.lastActive.active;
    const active = this.activeKeywordsOf(dialect);
    this.lastActive = { dialect, active };
    return active;
  }

  private activeKeywordsOf(dialect: Dialect): ActiveKeywords {
    let byDraft = ACTIVE.get(dialect.vocab);
    if (!byDraft) {
      byDraft = new Map();
      ACTIVE.set(dialect.vocab, byDraft);
    }
    const cacheKey = `${dialect.draft}:${this.settings.laterKeywords}`;
    const hit = byDraft.get(cacheKey);
    if (hit) return hit;
    const table = DIALECT_KEYWORDS[dialect.draft];
    const on = (flag: keyof Dialect["vocab"] | null): boolean => flag === null || dialect.vocab[flag];
    const later = this.settings.laterKeywords ? LATER_KEYWORDS[dialect.draft] : [];
    // A vocabulary's keywords, then the later-draft ones this draft takes into it.
    const keywordsOf = (vocabulary: VocabularyName): readonly KeywordDefinition[] => [
      ...table.vocabularies[vocabulary],
      ...later.filter((keyword) => keyword.vocabulary === vocabulary).map((keyword) => keyword.definition),
    ];
    const validation = VALIDATION_ORDER.filter(([, flag]) => on(flag)).flatMap(([v]) => keywordsOf(v));
    const annotation = ANNOTATION_ORDER.filter(([, flag]) => on(flag)).flatMap(([v]) => keywordsOf(v));
    const active: ActiveKeywords = {
      // Before 2019-09 a `$ref` stands for its whole schema: the sibling keywords are ignored.
      refOverridesSiblings: RESOURCE_KEYWORDS[dialect.draft].refOverridesSiblings,
      validation,
      validationIndex: indexOf(validation),
      annotation,
      annotationIndex: indexOf(annotation),
      applies: new Map(later.map((keyword) => [keyword.definition, keyword.applies])),
    };
    byDraft.set(cacheKey, active);
    return active;
  }

  /** The compiler as one schema's keywords see it. */
  private scope(target: SchemaTarget): SchemaCompiler {
    return new SchemaScope(this, target, this.handedOut.get(target));
  }
}
