import { SchemaError, ValidationLimitError } from "./errors";
import { FORMAT_CHECKS } from "./formats";
import { canonicalJson, codePointLength, isObject, type JsonObject, jsonEqual, jsonTypeOf } from "./json";
import type { RawUnit } from "./output";
import { compilePattern, RegexError } from "./regex";
import type { Registry, Resource, SchemaTarget } from "./registry";
import { escapePointerToken, pointerToFragment, resolveUri, splitFragment } from "./uri";

// The schema is compiled once into a tree of closures, one per keyword, with constants hoisted.
// Validation calls them; nothing is generated as code (Workers forbid eval and new Function).
//
// Hot-path rules: flag mode returns at the first failure and allocates nothing; instance paths,
// evaluation paths and error objects exist only in the error-collecting modes; annotation tracking
// for unevaluated* is compiled in only when some schema of the compilation uses unevaluated*.

/** A compiled check: true when `x` is valid. Errors (full mode) go to `ctx.errors`. */
type Check = (x: unknown, ctx: Ctx) => boolean;

/** A compiled (sub)schema. `v` is assigned after creation so reference cycles resolve lazily. */
export interface Node {
  v: Check;
  readonly res: Resource;
}

/** Properties/items a schema evaluated, for unevaluatedProperties/unevaluatedItems. */
interface EvalRecord {
  props: Set<string> | null;
  allProps: boolean;
  items: number;
  allItems: boolean;
  itemSet: Set<number> | null;
}

/** Where errors report the keyword: `keywordLocation = prefix + loc.ptr.slice(base)`. */
interface Frame {
  prefix: string;
  base: number;
}

/** One annotation collected for enrichment. */
export interface Annotation {
  instancePath: ReadonlyArray<string | number>;
  keyword: string;
  value: unknown;
  /** For `default` collected from `properties`: the absent property it fills. */
  property?: string;
}

/** Per-validation mutable state. Created per call; compiled closures stay immutable and shareable. */
export interface Ctx {
  /** Collect all errors (basic/detailed) instead of stopping at the first. */
  full: boolean;
  /** Maintain the instance path (full mode or annotation collection). */
  track: boolean;
  annotate: boolean;
  errors: RawUnit[];
  errCount: number;
  maxErrors: number;
  /** > 0 inside anyOf/oneOf/not/if/contains, whose errors may be discarded. */
  spec: number;
  ipath: Array<string | number>;
  frame: Frame;
  dyn: Resource[];
  ev: EvalRecord | null;
  steps: number;
  nextCheck: number;
  maxSteps: number;
  deadline: number;
  depth: number;
  maxDepth: number;
  anns: Annotation[];
}

/** Thrown to unwind when the error cap is reached; caught by the caller. */
export const STOP = { stop: true } as const;

function tick(ctx: Ctx): void {
  if (ctx.steps > ctx.maxSteps) {
    throw new ValidationLimitError(
      "budget",
      `validation exceeded its budget of ${ctx.maxSteps} steps`,
      ctx.maxSteps,
    );
  }
  if (ctx.deadline > 0 && performance.now() > ctx.deadline) {
    throw new ValidationLimitError("budget", "validation exceeded its time budget", ctx.deadline);
  }
  ctx.nextCheck = Math.min(ctx.steps + 1024, ctx.maxSteps + 1);
}

function depthExceeded(ctx: Ctx): never {
  throw new ValidationLimitError(
    "max_depth",
    `document nesting exceeds the maximum depth of ${ctx.maxDepth}`,
    ctx.maxDepth,
  );
}

/** The static location of a keyword. */
class Loc {
  private absCache: string | undefined;
  constructor(
    readonly ptr: string,
    readonly res: Resource,
  ) {}
  get abs(): string {
    if (this.absCache === undefined) {
      this.absCache = `${this.res.uri}#${pointerToFragment(this.ptr.slice(this.res.ptr.length))}`;
    }
    return this.absCache;
  }
}

function instancePointer(path: ReadonlyArray<string | number>, extra?: string | number): string {
  let s = "";
  for (const p of path) s += `/${typeof p === "number" ? p : escapePointerToken(p)}`;
  if (extra !== undefined) s += `/${typeof extra === "number" ? extra : escapePointerToken(extra)}`;
  return s;
}

function makeUnit(ctx: Ctx, loc: Loc, error: string, extra?: string | number): RawUnit {
  return {
    valid: false,
    keywordLocation: ctx.frame.prefix + loc.ptr.slice(ctx.frame.base),
    absoluteKeywordLocation: loc.abs,
    instanceLocation: instancePointer(ctx.ipath, extra),
    error,
  };
}

/** Records a leaf error (full mode only). */
function report(ctx: Ctx, loc: Loc, error: string, extra?: string | number): void {
  ctx.errors.push(makeUnit(ctx, loc, error, extra));
  if (ctx.spec === 0 && ++ctx.errCount > ctx.maxErrors) throw STOP;
}

/**
 * Wraps the errors recorded since `mark` (full mode) in one unit for the keyword, or drops them when
 * the keyword passed. Units are only built on failure, so valid documents allocate nothing here.
 */
function closeGroup(
  ctx: Ctx,
  mark: number,
  ok: boolean,
  loc: Loc,
  error: string,
  wrapper: boolean,
  keepEmpty = false,
): RawUnit | undefined {
  const errs = ctx.errors;
  if (ok) {
    errs.length = mark;
    return undefined;
  }
  if (errs.length === mark && !keepEmpty) return undefined;
  const unit = makeUnit(ctx, loc, error);
  unit.errors = errs.splice(mark);
  if (wrapper) unit.wrapper = true;
  errs.push(unit);
  return unit;
}

/** Full mode: applies `n` to `x` in place and wraps the errors it records in one unit for `loc`. */
function applyGrouped(n: Node, x: unknown, ctx: Ctx, loc: Loc, error: string): boolean {
  const mark = ctx.errors.length;
  const ok = n.v(x, ctx);
  closeGroup(ctx, mark, ok, loc, error, true);
  return ok;
}

/** Validates a child instance (property value, array item). Counts a step for the budget. */
function applyChild(n: Node, v: unknown, key: string | number, ctx: Ctx): boolean {
  if (++ctx.steps > ctx.nextCheck) tick(ctx);
  if (++ctx.depth > ctx.maxDepth) depthExceeded(ctx);
  let r: boolean;
  if (ctx.track) {
    ctx.ipath.push(key);
    r = n.v(v, ctx);
    ctx.ipath.pop();
  } else r = n.v(v, ctx);
  ctx.depth--;
  return r;
}

/** applyChild for compilations that track evaluated properties/items (unevaluated*). */
function applyChildTracked(n: Node, v: unknown, key: string | number, ctx: Ctx): boolean {
  const ev = ctx.ev;
  ctx.ev = null;
  const r = applyChild(n, v, key, ctx);
  ctx.ev = ev;
  return r;
}

function mergeEval(p: EvalRecord, c: EvalRecord): void {
  if (c.allProps) p.allProps = true;
  else if (c.props) {
    if (!p.props) p.props = new Set();
    for (const k of c.props) p.props.add(k);
  }
  if (c.allItems) p.allItems = true;
  if (c.items > p.items) p.items = c.items;
  if (c.itemSet) {
    if (!p.itemSet) p.itemSet = new Set();
    for (const i of c.itemSet) p.itemSet.add(i);
  }
}

function markProp(ctx: Ctx, k: string): void {
  const ev = ctx.ev;
  if (ev && !ev.allProps) {
    if (!ev.props) ev.props = new Set();
    ev.props.add(k);
  }
}

const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
const hasOwn = Object.prototype.hasOwnProperty;

function fmtValue(v: unknown): string {
  const s = JSON.stringify(v);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : (s ?? String(v));
}

/** True when x is a multiple of m, tolerating binary floating point (0.0075 is a multiple of 0.0001). */
function isMultipleOf(x: number, m: number): boolean {
  const q = x / m;
  if (Number.isInteger(q)) return true;
  if (!Number.isFinite(q)) return Number.isInteger(x) && Number.isInteger(1 / m);
  const decimals = (n: number): number => {
    const s = String(n);
    const e = s.indexOf("e-");
    if (e >= 0) {
      const mant = s.slice(0, e);
      const dot = mant.indexOf(".");
      return Number(s.slice(e + 2)) + (dot >= 0 ? mant.length - dot - 1 : 0);
    }
    const dot = s.indexOf(".");
    return dot >= 0 ? s.length - dot - 1 : 0;
  };
  const d = Math.max(decimals(x), decimals(m));
  if (d > 20) return false;
  const scale = 10 ** d;
  const xs = Math.round(x * scale);
  const ms = Math.round(m * scale);
  if (!Number.isSafeInteger(xs) || !Number.isSafeInteger(ms) || ms === 0)
    return Math.abs(q - Math.round(q)) < 1e-9;
  return xs % ms === 0;
}

const TYPE_BITS: Record<string, number> = {
  null: 1,
  boolean: 2,
  object: 4,
  array: 8,
  number: 16,
  string: 32,
  integer: 64,
};

function typeMatches(x: unknown, mask: number): boolean {
  switch (typeof x) {
    case "string":
      return (mask & 32) !== 0;
    case "number":
      return (mask & 16) !== 0 || ((mask & 64) !== 0 && Number.isInteger(x));
    case "boolean":
      return (mask & 2) !== 0;
    case "object":
      if (x === null) return (mask & 1) !== 0;
      return (mask & (Array.isArray(x) ? 8 : 4)) !== 0;
    default:
      return false;
  }
}

/** When a keyword runs: for any instance type, or only for one. */
enum Kind {
  Any = 0,
  String = 1,
  Number = 2,
  Object = 3,
  Array = 4,
}

interface Keyword {
  kind: Kind;
  check: Check;
  /** Set on the `type` keyword: the allowed types as TYPE_BITS. */
  typeMask?: number;
  /** Runs after the others of its schema (unevaluated*). */
  late?: boolean;
}

type ComposeCache = Map<Check, Map<Check, Check>>;

/** One check running several in order: stops at the first failure unless collecting all errors. */
function compose(checks: Check[], composeCache: ComposeCache): Check | null {
  if (checks.length === 0) return null;
  if (checks.length === 1) return checks[0] as Check;
  const a = checks[0] as Check;
  const b = compose(checks.slice(1), composeCache) as Check;
  // Identical lists give the identical function, so a node whose checks do not depend on the
  // instance type can skip the type dispatch.
  let byB = composeCache.get(a);
  const hit = byB?.get(b);
  if (hit) return hit;
  const c: Check = (x, ctx) => {
    if (a(x, ctx)) return b(x, ctx);
    if (ctx.full) b(x, ctx);
    return false;
  };
  if (!byB) {
    byB = new Map();
    composeCache.set(a, byB);
  }
  byB.set(b, c);
  return c;
}

/** Options fixed at compile time. */
export interface CompileSettings {
  formatAssertion: boolean;
}

const ANNOTATION_KEYWORDS = [
  "title",
  "description",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
  "examples",
];

/** Compiles located subschemas to nodes; one per compilation (shares the registry). */
export class Compiler {
  private readonly nodes = new Map<string, Node>();
  readonly trackEval: boolean;
  readonly dynamic: boolean;

  constructor(
    private readonly reg: Registry,
    private readonly settings: CompileSettings,
  ) {
    this.trackEval = reg.hasUnevaluated;
    this.dynamic = reg.hasDynamicRefs;
  }

  /** The node for a located subschema, compiled on first use. */
  node(t: SchemaTarget): Node {
    const key = `${t.doc.id}:${t.ptr}`;
    const hit = this.nodes.get(key);
    if (hit) return hit;
    const node: Node = { v: () => true, res: t.res };
    this.nodes.set(key, node);
    this.compileInto(node, t);
    return node;
  }

  private child(t: SchemaTarget, ...tokens: Array<string | number>): SchemaTarget {
    let schema: unknown = t.schema;
    let ptr = t.ptr;
    for (const tok of tokens) {
      schema = Array.isArray(schema)
        ? schema[tok as number]
        : isObject(schema)
          ? schema[tok as string]
          : undefined;
      ptr += `/${typeof tok === "number" ? tok : escapePointerToken(tok)}`;
    }
    const res = t.doc.resAt.get(ptr) ?? this.reg.resourceAt(t.doc, ptr);
    return { doc: t.doc, ptr, schema, res };
  }

  private sub(t: SchemaTarget, ...tokens: Array<string | number>): Node {
    return this.node(this.child(t, ...tokens));
  }

  private resolveRef(t: SchemaTarget, ref: string, kw: string): SchemaTarget {
    const abs = resolveUri(t.res.uri, ref);
    const target = this.reg.lookup(abs);
    if (!target) {
      const why = this.reg.failures.get(splitFragment(abs)[0]);
      throw new SchemaError(
        "unresolvable_ref",
        `cannot resolve ${kw} "${ref}" (${abs})${why ? `: ${why}` : ""}`,
        [],
        abs,
      );
    }
    return target;
  }

  private compileInto(node: Node, t: SchemaTarget): void {
    const s = t.schema;
    if (s === true || (isObject(s) && Object.keys(s).length === 0)) {
      node.v = () => true;
      return;
    }
    if (s === false) {
      const loc = new Loc(t.ptr, t.res);
      node.v = (_x, ctx) => {
        if (ctx.full) report(ctx, loc, "no value is allowed here (the schema is false)");
        return false;
      };
      return;
    }
    if (!isObject(s)) {
      throw new SchemaError("invalid_schema", `schema at ${t.ptr || "/"} must be an object or a boolean`);
    }
    const kws = this.keywords(t, s);
    const anns = this.annotationKeywords(t, s);
    node.v = this.assemble(t, kws, anns);
  }

  private assemble(t: SchemaTarget, kws: Keyword[], anns: Check[]): Check {
    const ordered = [...kws.filter((k) => !k.late), ...kws.filter((k) => k.late)];
    const typeKw = ordered.find((k) => k.typeMask !== undefined);
    const mask = typeKw?.typeMask ?? 0x7f;
    const others = ordered.filter((k) => k !== typeKw);
    const anyL = others.filter((k) => k.kind === Kind.Any).map((k) => k.check);
    const list = (kind: Kind): Check[] => others.filter((k) => k.kind === kind).map((k) => k.check);
    // The `type` keyword is folded into the dispatch on the instance's JSON type: where the type is
    // allowed it costs nothing, where it is not only the failure (and, in full mode, the rest) runs.
    const cache: ComposeCache = new Map();
    const forKind = (bit: number, kindChecks: Check[], integerOnly = false): Check | null => {
      if ((mask & bit) === 0 && !(integerOnly && (mask & 64) !== 0)) {
        return compose([(typeKw as Keyword).check, ...anyL], cache);
      }
      if (integerOnly && (mask & 16) === 0) {
        return compose([(typeKw as Keyword).check, ...anyL, ...kindChecks], cache);
      }
      return compose([...anyL, ...kindChecks], cache);
    };
    const fStr = forKind(32, list(Kind.String));
    const fNum = forKind(16, list(Kind.Number), true);
    const fObj = forKind(4, list(Kind.Object));
    const fArr = forKind(8, list(Kind.Array));
    const fBool = forKind(2, []);
    const fNull = forKind(1, []);
    let v: Check;
    if (fStr === fNum && fNum === fObj && fObj === fArr && fArr === fBool && fBool === fNull) {
      v = fStr ?? (() => true);
    } else {
      v = (x, ctx) => {
        let f: Check | null;
        switch (typeof x) {
          case "string":
            f = fStr;
            break;
          case "number":
            f = fNum;
            break;
          case "boolean":
            f = fBool;
            break;
          default:
            f = x === null ? fNull : Array.isArray(x) ? fArr : fObj;
        }
        return f === null ? true : f(x, ctx);
      };
    }
    if (anns.length > 0) {
      const inner = v;
      v = (x, ctx) => {
        const ok = inner(x, ctx);
        if (ok && ctx.annotate) for (const a of anns) a(x, ctx);
        return ok;
      };
    }
    if (this.trackEval) {
      const inner = v;
      v = (x, ctx) => {
        if (typeof x !== "object" || x === null) return inner(x, ctx);
        const parent = ctx.ev;
        const rec: EvalRecord = { props: null, allProps: false, items: 0, allItems: false, itemSet: null };
        ctx.ev = rec;
        const ok = inner(x, ctx);
        ctx.ev = parent;
        if (ok && parent) mergeEval(parent, rec);
        return ok;
      };
    }
    if (this.dynamic && t.res.ptr === t.ptr) {
      const inner = v;
      const res = t.res;
      v = (x, ctx) => {
        ctx.dyn.push(res);
        const ok = inner(x, ctx);
        ctx.dyn.pop();
        return ok;
      };
    }
    return v;
  }

  private annotationKeywords(t: SchemaTarget, s: JsonObject): Check[] {
    const out: Check[] = [];
    if (t.res.dialect.vocab.metaData) {
      for (const kw of ANNOTATION_KEYWORDS) {
        if (!(kw in s)) continue;
        const value = s[kw];
        out.push((_x, ctx) => {
          ctx.anns.push({ instancePath: [...ctx.ipath], keyword: kw, value });
          return true;
        });
      }
    }
    if (t.res.dialect.vocab.applicator && isObject(s.properties)) {
      const props = s.properties;
      const defaults: Array<[string, unknown]> = [];
      for (const k of Object.keys(props)) {
        const p = props[k];
        if (isObject(p) && "default" in p) defaults.push([k, p.default]);
      }
      if (defaults.length > 0) {
        out.push((x, ctx) => {
          if (!isObject(x)) return true;
          for (const [k, value] of defaults) {
            if (!hasOwn.call(x, k))
              ctx.anns.push({ instancePath: [...ctx.ipath], keyword: "default", value, property: k });
          }
          return true;
        });
      }
    }
    if (typeof s.format === "string" && t.res.dialect.vocab.format) {
      const format = s.format;
      out.push((x, ctx) => {
        if (typeof x === "string")
          ctx.anns.push({ instancePath: [...ctx.ipath], keyword: "format", value: format });
        return true;
      });
    }
    return out;
  }

  private keywords(t: SchemaTarget, s: JsonObject): Keyword[] {
    const out: Keyword[] = [];
    const draft = t.res.dialect.draft;
    const vocab = t.res.dialect.vocab;
    const loc = (kw: string): Loc => new Loc(`${t.ptr}/${escapePointerToken(kw)}`, t.res);

    if (typeof s.$ref === "string") {
      out.push({ kind: Kind.Any, check: this.refCheck(t, s.$ref, loc("$ref"), "$ref") });
      if (draft <= 7) return out; // siblings of $ref are ignored before 2019-09
    }
    if (draft === 2020 && typeof s.$dynamicRef === "string") {
      out.push({ kind: Kind.Any, check: this.dynamicRefCheck(t, s.$dynamicRef, loc("$dynamicRef")) });
    }
    if (draft === 2019 && typeof s.$recursiveRef === "string") {
      out.push({ kind: Kind.Any, check: this.recursiveRefCheck(t, s.$recursiveRef, loc("$recursiveRef")) });
    }
    if (draft < 2019 || vocab.validation) this.validationKeywords(t, s, draft, loc, out);
    if (draft < 2019 || vocab.applicator) this.applicatorKeywords(t, s, draft, loc, out);
    if (draft >= 2019 && vocab.unevaluated) this.unevaluatedKeywords(t, s, draft, loc, out);
    if (typeof s.format === "string" && (draft < 2019 || vocab.format)) {
      const assert = this.settings.formatAssertion || vocab.formatAssertion;
      const fn = FORMAT_CHECKS[s.format];
      if (assert && fn) {
        const l = loc("format");
        const msg = `must be a valid ${s.format}`;
        out.push({
          kind: Kind.String,
          check: (x, ctx) => {
            if (fn(x as string)) return true;
            if (ctx.full) report(ctx, l, msg);
            return false;
          },
        });
      }
    }
    if (draft === 7 && (typeof s.contentEncoding === "string" || typeof s.contentMediaType === "string")) {
      // draft-07 lets implementations assert content; later drafts make it annotation only.
      const base64 = s.contentEncoding === "base64";
      const json = s.contentMediaType === "application/json";
      const l = loc(json ? "contentMediaType" : "contentEncoding");
      if (base64 || json) {
        out.push({
          kind: Kind.String,
          check: (x, ctx) => {
            const decoded = base64 ? decodeBase64(x as string) : (x as string);
            let ok = decoded !== null;
            if (ok && json) {
              try {
                JSON.parse(decoded as string);
              } catch {
                ok = false;
              }
            }
            if (!ok && ctx.full)
              report(ctx, l, base64 && decoded === null ? "must be valid base64" : "must be valid JSON");
            return ok;
          },
        });
      }
    }
    return out;
  }

  private refCheck(t: SchemaTarget, ref: string, l: Loc, kw: string): Check {
    const target = this.resolveRef(t, ref, kw);
    const node = this.node(target);
    const targetBase = target.ptr.length;
    const res = target.res;
    const dynamic = this.dynamic;
    return (x, ctx) => {
      if (++ctx.steps > ctx.nextCheck) tick(ctx);
      let saved: Frame | undefined;
      if (ctx.track) {
        saved = ctx.frame;
        ctx.frame = { prefix: saved.prefix + l.ptr.slice(saved.base), base: targetBase };
      }
      if (dynamic) ctx.dyn.push(res);
      const ok = node.v(x, ctx);
      if (dynamic) ctx.dyn.pop();
      if (saved) ctx.frame = saved;
      return ok;
    };
  }

  private dynamicRefCheck(t: SchemaTarget, ref: string, l: Loc): Check {
    const abs = resolveUri(t.res.uri, ref);
    const target = this.resolveRef(t, ref, "$dynamicRef");
    const frag = splitFragment(abs)[1];
    const isDynamic =
      frag !== "" && !frag.startsWith("/") && target.res.dynamicAnchors.get(frag) === target.ptr;
    if (!isDynamic) return this.refCheck(t, ref, l, "$dynamicRef");
    const byRes = this.anchorTargets((res) =>
      res.dynamicAnchors.get(frag) === undefined ? undefined : frag,
    );
    const fallback = { node: this.node(target), base: target.ptr.length, res: target.res };
    return dynamicScopeCheck(byRes, fallback, l);
  }

  private recursiveRefCheck(t: SchemaTarget, ref: string, l: Loc): Check {
    const target = this.resolveRef(t, ref, "$recursiveRef");
    const fallback = { node: this.node(target), base: target.ptr.length, res: target.res };
    const anchored = isObject(target.schema) && target.schema.$recursiveAnchor === true;
    if (!anchored) return this.refCheck(t, ref, l, "$recursiveRef");
    const byRes = this.anchorTargets((res) => (res.recursiveAnchor ? "" : undefined));
    return dynamicScopeCheck(byRes, fallback, l);
  }

  /**
   * Every resource that declares a dynamic (or recursive) anchor, with the anchor's subschema compiled
   * up front. `fragmentOf` gives the anchor's fragment in a resource, or undefined where it has none.
   */
  private anchorTargets(fragmentOf: (res: Resource) => string | undefined): Map<Resource, RefTarget> {
    const byRes = new Map<Resource, RefTarget>();
    for (const res of new Set(this.reg.resources.values())) {
      const frag = fragmentOf(res);
      if (frag === undefined) continue;
      const tt = this.reg.lookup(`${res.uri}#${frag}`);
      if (tt) byRes.set(res, { node: this.node(tt), base: tt.ptr.length, res });
    }
    return byRes;
  }

  private validationKeywords(
    t: SchemaTarget,
    s: JsonObject,
    draft: number,
    loc: (kw: string) => Loc,
    out: Keyword[],
  ): void {
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as unknown[]) : [s.type];
      let mask = 0;
      for (const ty of types) if (typeof ty === "string") mask |= TYPE_BITS[ty] ?? 0;
      const l = loc("type");
      const expected = types.join(", ");
      const msg = (x: unknown): string =>
        `must be ${types.length > 1 ? `one of ${expected}` : expected} (got ${jsonTypeOf(x)})`;
      let check: Check;
      if (mask === 32) check = (x) => typeof x === "string";
      else if (mask === 16) check = (x) => typeof x === "number";
      else if (mask === 64) check = (x) => Number.isInteger(x);
      else if (mask === 4) check = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
      else if (mask === 8) check = (x) => Array.isArray(x);
      else if (mask === 2) check = (x) => typeof x === "boolean";
      else check = (x) => typeMatches(x, mask);
      const base = check;
      out.push({
        kind: Kind.Any,
        typeMask: mask,
        check: (x, ctx) => {
          if (base(x, ctx)) return true;
          if (ctx.full) report(ctx, l, msg(x));
          return false;
        },
      });
    }
    if (Array.isArray(s.enum)) {
      const values = s.enum as unknown[];
      const prims = new Set<unknown>();
      const complex: unknown[] = [];
      for (const v of values) {
        if (typeof v === "object" && v !== null) complex.push(v);
        else prims.add(v);
      }
      const l = loc("enum");
      const msg =
        values.length <= 10
          ? `must be one of ${values.map(fmtValue).join(", ")}`
          : "must be one of the allowed values";
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          if (typeof x !== "object" || x === null) {
            if (prims.has(x)) return true;
          } else {
            for (const c of complex) if (jsonEqual(x, c)) return true;
          }
          if (ctx.full) report(ctx, l, msg);
          return false;
        },
      });
    }
    if (draft >= 6 && "const" in s) {
      const c = s.const;
      const l = loc("const");
      const msg = `must be equal to ${fmtValue(c)}`;
      const prim = typeof c !== "object" || c === null;
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          if (prim ? x === c : jsonEqual(x, c)) return true;
          if (ctx.full) report(ctx, l, msg);
          return false;
        },
      });
    }
    // numbers
    const num = (
      kw: string,
      test: (x: number, lim: number) => boolean,
      text: string,
      limit: unknown,
    ): void => {
      if (typeof limit !== "number") return;
      const l = loc(kw);
      const msg = `must be ${text} ${limit}`;
      out.push({
        kind: Kind.Number,
        check: (x, ctx) => {
          if (test(x as number, limit)) return true;
          if (ctx.full) report(ctx, l, msg);
          return false;
        },
      });
    };
    if (draft === 4) {
      num(
        "maximum",
        s.exclusiveMaximum === true ? (x, m) => x < m : (x, m) => x <= m,
        s.exclusiveMaximum === true ? "<" : "<=",
        s.maximum,
      );
      num(
        "minimum",
        s.exclusiveMinimum === true ? (x, m) => x > m : (x, m) => x >= m,
        s.exclusiveMinimum === true ? ">" : ">=",
        s.minimum,
      );
    } else {
      num("maximum", (x, m) => x <= m, "<=", s.maximum);
      num("minimum", (x, m) => x >= m, ">=", s.minimum);
      num("exclusiveMaximum", (x, m) => x < m, "<", s.exclusiveMaximum);
      num("exclusiveMinimum", (x, m) => x > m, ">", s.exclusiveMinimum);
    }
    num("multipleOf", isMultipleOf, "a multiple of", s.multipleOf);
    // strings
    if (typeof s.maxLength === "number") {
      const max = s.maxLength;
      const l = loc("maxLength");
      out.push({
        kind: Kind.String,
        check: (x, ctx) => {
          const str = x as string;
          if (str.length <= max || codePointLength(str) <= max) return true;
          if (ctx.full) report(ctx, l, `must have at most ${max} characters`);
          return false;
        },
      });
    }
    if (typeof s.minLength === "number") {
      const min = s.minLength;
      const l = loc("minLength");
      out.push({
        kind: Kind.String,
        check: (x, ctx) => {
          const str = x as string;
          if (str.length >= 2 * min || (str.length >= min && codePointLength(str) >= min)) return true;
          if (ctx.full) report(ctx, l, `must have at least ${min} character${min === 1 ? "" : "s"}`);
          return false;
        },
      });
    }
    if (typeof s.pattern === "string") {
      const re = this.pattern(s.pattern);
      const l = loc("pattern");
      const msg = `must match the pattern ${JSON.stringify(s.pattern)}`;
      out.push({
        kind: Kind.String,
        check: (x, ctx) => {
          if (re.test(x as string)) return true;
          if (ctx.full) report(ctx, l, msg);
          return false;
        },
      });
    }
    // arrays
    if (typeof s.maxItems === "number") {
      const max = s.maxItems;
      const l = loc("maxItems");
      out.push({
        kind: Kind.Array,
        check: (x, ctx) => {
          if ((x as unknown[]).length <= max) return true;
          if (ctx.full) report(ctx, l, `must have at most ${max} items`);
          return false;
        },
      });
    }
    if (typeof s.minItems === "number") {
      const min = s.minItems;
      const l = loc("minItems");
      out.push({
        kind: Kind.Array,
        check: (x, ctx) => {
          if ((x as unknown[]).length >= min) return true;
          if (ctx.full) report(ctx, l, `must have at least ${min} item${min === 1 ? "" : "s"}`);
          return false;
        },
      });
    }
    if (s.uniqueItems === true) {
      const l = loc("uniqueItems");
      out.push({
        kind: Kind.Array,
        check: (x, ctx) => {
          const dup = findDuplicate(x as unknown[]);
          if (!dup) return true;
          if (ctx.full)
            report(ctx, l, `must not contain duplicate items (items ${dup[0]} and ${dup[1]} are equal)`);
          return false;
        },
      });
    }
    // objects
    if (typeof s.maxProperties === "number") {
      const max = s.maxProperties;
      const l = loc("maxProperties");
      out.push({
        kind: Kind.Object,
        check: (x, ctx) => {
          if (Object.keys(x as JsonObject).length <= max) return true;
          if (ctx.full) report(ctx, l, `must have at most ${max} properties`);
          return false;
        },
      });
    }
    if (typeof s.minProperties === "number") {
      const min = s.minProperties;
      const l = loc("minProperties");
      out.push({
        kind: Kind.Object,
        check: (x, ctx) => {
          if (Object.keys(x as JsonObject).length >= min) return true;
          if (ctx.full) report(ctx, l, `must have at least ${min} propert${min === 1 ? "y" : "ies"}`);
          return false;
        },
      });
    }
    if (Array.isArray(s.required) && s.required.length > 0) {
      out.push({ kind: Kind.Object, check: requiredCheck(s.required as string[], loc("required")) });
    }
    const depReq = draft >= 2019 ? s.dependentRequired : undefined;
    const deps = s.dependencies;
    const reqDeps: Array<[string, string[], Loc]> = [];
    if (isObject(depReq)) {
      for (const k of Object.keys(depReq)) {
        const v = depReq[k];
        if (Array.isArray(v)) reqDeps.push([k, v as string[], loc("dependentRequired")]);
      }
    }
    if (isObject(deps)) {
      for (const k of Object.keys(deps)) {
        const v = deps[k];
        if (Array.isArray(v)) reqDeps.push([k, v as string[], loc("dependencies")]);
      }
    }
    for (const [k, needs, l] of reqDeps) {
      const inner = requiredCheck(needs, l, k);
      out.push({ kind: Kind.Object, check: (x, ctx) => !hasOwn.call(x, k) || inner(x, ctx) });
    }
    void t;
  }

  private pattern(source: string): { test(s: string): boolean } {
    try {
      return compilePattern(source);
    } catch (e) {
      if (e instanceof RegexError) {
        throw new SchemaError(
          e.reason === "syntax" ? "invalid_schema" : "unsupported",
          `pattern ${JSON.stringify(source)}: ${e.message}`,
        );
      }
      throw e;
    }
  }

  private applicatorKeywords(
    t: SchemaTarget,
    s: JsonObject,
    draft: number,
    loc: (kw: string) => Loc,
    out: Keyword[],
  ): void {
    const track = this.trackEval;
    // in-place applicators
    if (Array.isArray(s.allOf)) {
      const nodes = s.allOf.map((_, i) => this.sub(t, "allOf", i));
      const l = loc("allOf");
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          if (!ctx.full) {
            for (const n of nodes) if (!n.v(x, ctx)) return false;
            return true;
          }
          const mark = ctx.errors.length;
          let ok = true;
          for (const n of nodes) if (!n.v(x, ctx)) ok = false;
          closeGroup(ctx, mark, ok, l, "must match all of the subschemas", true);
          return ok;
        },
      });
    }
    if (Array.isArray(s.anyOf)) {
      const nodes = s.anyOf.map((_, i) => this.sub(t, "anyOf", i));
      const l = loc("anyOf");
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          const mark = ctx.errors.length;
          ctx.spec++;
          let ok = false;
          for (const n of nodes) {
            const mark = ctx.anns.length;
            if (n.v(x, ctx)) {
              ok = true;
              if (!track) break;
            } else ctx.anns.length = mark;
          }
          ctx.spec--;
          if (ctx.full)
            closeGroup(ctx, mark, ok, l, "must match at least one of the subschemas", false, true);
          return ok;
        },
      });
    }
    if (Array.isArray(s.oneOf)) {
      const nodes = s.oneOf.map((_, i) => this.sub(t, "oneOf", i));
      const l = loc("oneOf");
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          const mark = ctx.errors.length;
          ctx.spec++;
          let count = 0;
          const matched: number[] = [];
          for (let i = 0; i < nodes.length; i++) {
            const mark = ctx.anns.length;
            if ((nodes[i] as Node).v(x, ctx)) {
              count++;
              matched.push(i);
              if (count > 1 && !ctx.full) break;
            } else ctx.anns.length = mark;
          }
          ctx.spec--;
          const ok = count === 1;
          if (ctx.full) {
            if (count > 1) ctx.errors.length = mark;
            const msg =
              count > 1
                ? `must match exactly one of the subschemas (matched ${matched.length}: ${matched.join(", ")})`
                : "must match exactly one of the subschemas";
            closeGroup(ctx, mark, ok, l, msg, false, true);
          }
          return ok;
        },
      });
    }
    if ("not" in s) {
      const n = this.sub(t, "not");
      const l = loc("not");
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          const errMark = ctx.errors.length;
          ctx.spec++;
          const ev = ctx.ev;
          ctx.ev = null;
          const annMark = ctx.anns.length;
          const r = n.v(x, ctx);
          ctx.anns.length = annMark;
          ctx.ev = ev;
          ctx.spec--;
          ctx.errors.length = errMark;
          if (!r) return true;
          if (ctx.full) report(ctx, l, "must not match the schema in 'not'");
          return false;
        },
      });
    }
    if (draft >= 7 && "if" in s && ("then" in s || "else" in s || track)) {
      const ifN = this.sub(t, "if");
      const thenN = "then" in s ? this.sub(t, "then") : null;
      const elseN = "else" in s ? this.sub(t, "else") : null;
      const lt = loc("then");
      const le = loc("else");
      out.push({
        kind: Kind.Any,
        check: (x, ctx) => {
          const errMark = ctx.errors.length;
          ctx.spec++;
          const annMark = ctx.anns.length;
          const cond = ifN.v(x, ctx);
          if (!cond) ctx.anns.length = annMark;
          ctx.spec--;
          ctx.errors.length = errMark;
          const branch = cond ? thenN : elseN;
          if (!branch) return true;
          if (!ctx.full) return branch.v(x, ctx);
          return applyGrouped(
            branch,
            x,
            ctx,
            cond ? lt : le,
            cond ? "must match the 'then' schema" : "must match the 'else' schema",
          );
        },
      });
    }
    const depSchemas: Array<[string, Node, Loc]> = [];
    if (draft >= 2019 && isObject(s.dependentSchemas)) {
      for (const k of Object.keys(s.dependentSchemas)) {
        depSchemas.push([k, this.sub(t, "dependentSchemas", k), loc("dependentSchemas")]);
      }
    }
    if (isObject(s.dependencies)) {
      for (const k of Object.keys(s.dependencies)) {
        if (!Array.isArray(s.dependencies[k]))
          depSchemas.push([k, this.sub(t, "dependencies", k), loc("dependencies")]);
      }
    }
    for (const [k, n, l] of depSchemas) {
      const msg = `must match the schema required when property ${JSON.stringify(k)} is present`;
      out.push({
        kind: Kind.Object,
        check: (x, ctx) => {
          if (!hasOwn.call(x, k)) return true;
          if (!ctx.full) return n.v(x, ctx);
          return applyGrouped(n, x, ctx, l, msg);
        },
      });
    }
    // objects
    this.objectApplicators(t, s, loc, out);
    if (draft >= 6 && "propertyNames" in s) {
      const n = this.sub(t, "propertyNames");
      const l = loc("propertyNames");
      out.push({
        kind: Kind.Object,
        check: (x, ctx) => {
          let ok = true;
          const ev = ctx.ev;
          ctx.ev = null;
          for (const k in x as JsonObject) {
            if (!ctx.full) {
              if (!n.v(k, ctx)) {
                ctx.ev = ev;
                return false;
              }
              continue;
            }
            const mark = ctx.errors.length;
            const r = n.v(k, ctx);
            if (!r) closeGroup(ctx, mark, r, l, `property name ${JSON.stringify(k)} is invalid`, false, true);
            if (!r) ok = false;
          }
          ctx.ev = ev;
          return ok;
        },
      });
    }
    // arrays
    this.arrayApplicators(t, s, draft, loc, out);
  }

  private objectApplicators(t: SchemaTarget, s: JsonObject, loc: (kw: string) => Loc, out: Keyword[]): void {
    const props = isObject(s.properties) ? s.properties : null;
    const patternProps = isObject(s.patternProperties) ? s.patternProperties : null;
    const hasAdditional = "additionalProperties" in s;
    if (!props && !patternProps && !hasAdditional) return;
    const track = this.trackEval;
    const apply = track ? applyChildTracked : applyChild;
    const propNodes = new Map<string, Node>();
    if (props) for (const k of Object.keys(props)) propNodes.set(k, this.sub(t, "properties", k));
    const patterns = patternProps
      ? Object.keys(patternProps).map((p) => ({
          re: this.pattern(p),
          node: this.sub(t, "patternProperties", p),
        }))
      : [];
    const additional = hasAdditional ? this.sub(t, "additionalProperties") : null;
    const additionalFalse = s.additionalProperties === false;
    const lp = loc("properties");
    const la = loc("additionalProperties");

    if (patterns.length === 0 && !additional) {
      const entries = [...propNodes].map(([k, n]) => ({ k, n, guard: PROTO_NAMES.has(k) }));
      out.push({
        kind: Kind.Object,
        check: (x, ctx) => {
          const o = x as JsonObject;
          let ok = true;
          const full = ctx.full;
          const mark = ctx.errors.length;
          for (let i = 0; i < entries.length; i++) {
            const e = entries[i] as { k: string; n: Node; guard: boolean };
            const v = o[e.k];
            if (v === undefined || (e.guard && !hasOwn.call(o, e.k))) continue;
            if (track) markProp(ctx, e.k);
            if (!apply(e.n, v, e.k, ctx)) {
              ok = false;
              if (!full) return false;
            }
          }
          if (full) closeGroup(ctx, mark, ok, lp, "some properties are invalid", true);
          return ok;
        },
      });
      return;
    }
    out.push({
      kind: Kind.Object,
      check: (x, ctx) => {
        const o = x as JsonObject;
        let ok = true;
        const full = ctx.full;
        const mark = ctx.errors.length;
        for (const k in o) {
          const v = o[k];
          let matched = false;
          const pn = propNodes.get(k);
          if (pn) {
            matched = true;
            if (!apply(pn, v, k, ctx)) {
              ok = false;
              if (!full) return false;
            }
          }
          for (let i = 0; i < patterns.length; i++) {
            const p = patterns[i] as { re: { test(s: string): boolean }; node: Node };
            if (!p.re.test(k)) continue;
            matched = true;
            if (!apply(p.node, v, k, ctx)) {
              ok = false;
              if (!full) return false;
            }
          }
          if (!matched && additional) {
            if (additionalFalse) {
              ok = false;
              if (!full) return false;
              report(ctx, la, `property ${JSON.stringify(k)} is not allowed`, k);
              continue;
            }
            if (!apply(additional, v, k, ctx)) {
              ok = false;
              if (!full) return false;
            }
          }
          if (track && (matched || additional)) markProp(ctx, k);
        }
        if (full) closeGroup(ctx, mark, ok, lp, "some properties are invalid", true);
        return ok;
      },
    });
  }

  private arrayApplicators(
    t: SchemaTarget,
    s: JsonObject,
    draft: number,
    loc: (kw: string) => Loc,
    out: Keyword[],
  ): void {
    const track = this.trackEval;
    const apply = track ? applyChildTracked : applyChild;
    let prefix: Node[] = [];
    let rest: Node | null = null;
    let restLoc: Loc | null = null;
    let prefixLoc: Loc = loc("items");
    if (draft >= 2020) {
      if (Array.isArray(s.prefixItems)) {
        prefix = s.prefixItems.map((_, i) => this.sub(t, "prefixItems", i));
        prefixLoc = loc("prefixItems");
      }
      if ("items" in s) {
        rest = this.sub(t, "items");
        restLoc = loc("items");
      }
    } else if (Array.isArray(s.items)) {
      prefix = s.items.map((_, i) => this.sub(t, "items", i));
      if ("additionalItems" in s) {
        rest = this.sub(t, "additionalItems");
        restLoc = loc("additionalItems");
      }
    } else if ("items" in s) {
      rest = this.sub(t, "items");
      restLoc = loc("items");
    }
    if (prefix.length > 0 || rest) {
      const np = prefix.length;
      const restFalse =
        rest !== null &&
        isObject(t.schema) &&
        s[draft >= 2020 ? "items" : Array.isArray(s.items) ? "additionalItems" : "items"] === false;
      out.push({
        kind: Kind.Array,
        check: (x, ctx) => {
          const a = x as unknown[];
          let ok = true;
          const full = ctx.full;
          const mark = ctx.errors.length;
          const n = a.length < np ? a.length : np;
          for (let i = 0; i < n; i++) {
            if (!apply(prefix[i] as Node, a[i], i, ctx)) {
              ok = false;
              if (!full) return false;
            }
          }
          if (rest && a.length > np) {
            if (restFalse) {
              ok = false;
              if (!full) return false;
              report(ctx, restLoc as Loc, `must have at most ${np} item${np === 1 ? "" : "s"}`);
            } else {
              for (let i = np; i < a.length; i++) {
                if (!apply(rest, a[i], i, ctx)) {
                  ok = false;
                  if (!full) return false;
                }
              }
            }
          }
          if (full) closeGroup(ctx, mark, ok, prefixLoc, "some items are invalid", true);
          if (track && ctx.ev) {
            if (rest) ctx.ev.allItems = true;
            else if (n > ctx.ev.items) ctx.ev.items = n;
          }
          return ok;
        },
      });
    }
    if (draft >= 6 && "contains" in s) {
      const n = this.sub(t, "contains");
      const l = loc("contains");
      const minC = draft >= 2019 && typeof s.minContains === "number" ? s.minContains : 1;
      const maxC =
        draft >= 2019 && typeof s.maxContains === "number" ? s.maxContains : Number.POSITIVE_INFINITY;
      const lmin = draft >= 2019 && typeof s.minContains === "number" ? loc("minContains") : l;
      const lmax = loc("maxContains");
      const needAll = track || maxC !== Number.POSITIVE_INFINITY;
      out.push({
        kind: Kind.Array,
        check: (x, ctx) => {
          const a = x as unknown[];
          const errMark = ctx.errors.length;
          ctx.spec++;
          let count = 0;
          const ev = ctx.ev;
          for (let i = 0; i < a.length; i++) {
            const mark = ctx.anns.length;
            if (apply(n, a[i], i, ctx)) {
              count++;
              if (track && ev) {
                if (!ev.itemSet) ev.itemSet = new Set();
                ev.itemSet.add(i);
              }
              if (!needAll && count >= minC) break;
            } else ctx.anns.length = mark;
          }
          ctx.spec--;
          ctx.errors.length = errMark;
          if (count < minC) {
            if (ctx.full)
              report(
                ctx,
                lmin,
                `must contain at least ${minC} matching item${minC === 1 ? "" : "s"} (found ${count})`,
              );
            return false;
          }
          if (count > maxC) {
            if (ctx.full)
              report(
                ctx,
                lmax,
                `must contain at most ${maxC} matching item${maxC === 1 ? "" : "s"} (found ${count})`,
              );
            return false;
          }
          return true;
        },
      });
    }
  }

  private unevaluatedKeywords(
    t: SchemaTarget,
    s: JsonObject,
    draft: number,
    loc: (kw: string) => Loc,
    out: Keyword[],
  ): void {
    const apply = applyChildTracked;
    if ("unevaluatedProperties" in s) {
      const n = this.sub(t, "unevaluatedProperties");
      const l = loc("unevaluatedProperties");
      const isFalse = s.unevaluatedProperties === false;
      out.push({
        kind: Kind.Object,
        late: true,
        check: (x, ctx) => {
          const ev = ctx.ev;
          if (!ev || ev.allProps) return true;
          let ok = true;
          for (const k in x as JsonObject) {
            if (ev.props?.has(k)) continue;
            if (isFalse) {
              ok = false;
              if (!ctx.full) return false;
              report(ctx, l, `property ${JSON.stringify(k)} is not allowed (unevaluated)`, k);
              continue;
            }
            if (!apply(n, (x as JsonObject)[k], k, ctx)) {
              ok = false;
              if (!ctx.full) return false;
            }
          }
          if (ok) ev.allProps = true;
          return ok;
        },
      });
    }
    if ("unevaluatedItems" in s) {
      const n = this.sub(t, "unevaluatedItems");
      const l = loc("unevaluatedItems");
      const isFalse = s.unevaluatedItems === false;
      out.push({
        kind: Kind.Array,
        late: true,
        check: (x, ctx) => {
          const ev = ctx.ev;
          if (!ev || ev.allItems) return true;
          const a = x as unknown[];
          let ok = true;
          for (let i = ev.items; i < a.length; i++) {
            if (ev.itemSet?.has(i)) continue;
            if (isFalse) {
              ok = false;
              if (!ctx.full) return false;
              report(ctx, l, `item ${i} is not allowed (unevaluated)`, i);
              continue;
            }
            if (!apply(n, a[i], i, ctx)) {
              ok = false;
              if (!ctx.full) return false;
            }
          }
          if (ok) ev.allItems = true;
          return ok;
        },
      });
    }
    void draft;
  }
}

/** A compiled reference target: its node, its pointer length (for error frames) and its resource. */
interface RefTarget {
  node: Node;
  base: number;
  res: Resource;
}

/**
 * $dynamicRef/$recursiveRef: validates against the target of the outermost resource in the dynamic
 * scope that declares the anchor (`byRes`), else against the static `fallback`.
 */
function dynamicScopeCheck(byRes: Map<Resource, RefTarget>, fallback: RefTarget, l: Loc): Check {
  return (x, ctx) => {
    if (++ctx.steps > ctx.nextCheck) tick(ctx);
    let chosen = fallback;
    for (const r of ctx.dyn) {
      const hit = byRes.get(r);
      if (hit) {
        chosen = hit;
        break;
      }
    }
    let saved: Frame | undefined;
    if (ctx.track) {
      saved = ctx.frame;
      ctx.frame = { prefix: saved.prefix + l.ptr.slice(saved.base), base: chosen.base };
    }
    ctx.dyn.push(chosen.res);
    const ok = chosen.node.v(x, ctx);
    ctx.dyn.pop();
    if (saved) ctx.frame = saved;
    return ok;
  };
}

function decodeBase64(s: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  try {
    return atob(s);
  } catch {
    return null;
  }
}

function requiredCheck(required: string[], l: Loc, because?: string): Check {
  const names = required.filter((k) => typeof k === "string");
  const guard = names.map((k) => PROTO_NAMES.has(k));
  const suffix = because === undefined ? "" : ` (required when ${JSON.stringify(because)} is present)`;
  return (x, ctx) => {
    const o = x as JsonObject;
    let ok = true;
    for (let i = 0; i < names.length; i++) {
      const k = names[i] as string;
      if (o[k] !== undefined && (!guard[i] || hasOwn.call(o, k))) continue;
      if (guard[i] && hasOwn.call(o, k)) continue;
      ok = false;
      if (!ctx.full) return false;
      report(ctx, l, `must have required property ${JSON.stringify(k)}${suffix}`);
    }
    return ok;
  };
}

function findDuplicate(a: unknown[]): [number, number] | null {
  const n = a.length;
  if (n < 2) return null;
  let allPrim = true;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v === "object" && v !== null) {
      allPrim = false;
      break;
    }
  }
  if (allPrim) {
    const seen = new Map<unknown, number>();
    for (let i = 0; i < n; i++) {
      const prev = seen.get(a[i]);
      if (prev !== undefined) return [prev, i];
      seen.set(a[i], i);
    }
    return null;
  }
  if (n <= 16) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (jsonEqual(a[i], a[j])) return [i, j];
    return null;
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const v = a[i];
    const key = typeof v === "object" && v !== null ? canonicalJson(v) : `${typeof v}:${String(v)}`;
    const prev = seen.get(key);
    if (prev !== undefined) return [prev, i];
    seen.set(key, i);
  }
  return null;
}
