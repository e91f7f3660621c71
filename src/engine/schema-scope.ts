import { type Node, SchemaLocation } from "./context";
import type { JsonObject } from "./json";
import type { ReferenceTarget, SchemaCompiler } from "./keyword";
import type { CompiledPattern } from "./regex";
import type { Registry, Resource, SchemaTarget } from "./registry";
import { escapePointerToken } from "./uri";

/** What a schema's scope asks of the compilation's compiler (compiler.ts). */
export interface ScopeCompiler {
  readonly registry: Pick<Registry, "keysOf">;
  readonly tracksEvaluation: boolean;
  readonly usesDynamicScope: boolean;
  /** Whether `format` asserts everywhere (the compile option). */
  readonly assertsFormat: boolean;
  node(target: SchemaTarget): Node;
  child(target: SchemaTarget, tokens: Array<string | number>): SchemaTarget;
  expectNodes(count: number): void;
  resolve(target: SchemaTarget, reference: string, keyword: string): SchemaTarget;
  anchorTargets(fragmentOf: (resource: Resource) => string | undefined): Map<Resource, ReferenceTarget>;
  pattern(source: string, target?: SchemaTarget): CompiledPattern;
}

/** The compiler as one schema's keywords see it: one object per subschema, its methods shared. */
export class SchemaScope implements SchemaCompiler {
  readonly tracksEvaluation: boolean;
  readonly usesDynamicScope: boolean;
  readonly assertsFormat: boolean;
  /** The nodes of `subschema(keyword, token)` asked for so far (this compilation only). */
  private children: Map<string, Map<string | number, Node>> | undefined;

  /** `handedOut`: the nodes of a wide `properties`, by name, handed out before this schema is
   * compiled (Compiler.build). */
  constructor(
    private readonly compiler: ScopeCompiler,
    readonly target: SchemaTarget,
    private readonly handedOut: ReadonlyMap<string, Node> | undefined,
  ) {
    this.tracksEvaluation = compiler.tracksEvaluation;
    this.usesDynamicScope = compiler.usesDynamicScope;
    this.assertsFormat = compiler.assertsFormat || target.resource.dialect.vocab.formatAssertion;
  }

  location(keyword: string): SchemaLocation {
    return new SchemaLocation(
      `${this.target.pointer}/${escapePointerToken(keyword)}`,
      this.target.resource,
      keyword,
    );
  }

  subschema(...tokens: Array<string | number>): Node {
    if (tokens.length !== 2) return this.compiler.node(this.compiler.child(this.target, tokens));
    const [keyword, token] = tokens as [string, string | number];
    const handed = keyword === "properties" ? this.handedOut?.get(token as string) : undefined;
    if (handed) return handed;
    // `properties/name` is asked for twice of a closed record (properties.ts, flag-object-check.ts):
    // the second time is a lookup, not a pointer built and looked up again.
    // Made on first use: most subschemas (leaves) have none.
    this.children ??= new Map();
    let byToken = this.children.get(keyword);
    if (!byToken) {
      byToken = new Map();
      this.children.set(keyword, byToken);
    }
    let node = byToken.get(token);
    if (!node) {
      node = this.compiler.node(this.compiler.child(this.target, tokens));
      byToken.set(token, node);
    }
    return node;
  }

  keysOf(object: JsonObject): readonly string[] {
    return this.compiler.registry.keysOf(object);
  }

  expectSubschemas(count: number): void {
    this.compiler.expectNodes(count);
  }

  node(target: SchemaTarget): Node {
    return this.compiler.node(target);
  }

  resolve(reference: string, keyword: string): SchemaTarget {
    return this.compiler.resolve(this.target, reference, keyword);
  }

  anchorTargets(fragmentOf: (resource: Resource) => string | undefined): Map<Resource, ReferenceTarget> {
    return this.compiler.anchorTargets(fragmentOf);
  }

  pattern(source: string): CompiledPattern {
    return this.compiler.pattern(source, this.target);
  }
}
