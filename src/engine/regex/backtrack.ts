import type { Node, Parsed } from "./parse";
import { RegexError } from "./regex-error";

// A backtracking matcher with ECMA-262 semantics for the patterns RE2 cannot run (lookaround,
// backreferences). The pattern is compiled to a small instruction program run by a loop with an
// explicit backtrack stack (no recursion per character, so no stack overflow on long inputs), and
// every instruction executed or choice undone is one step: `run` reports its steps to `charge`,
// which throws once the caller's budget is spent. Its worst case is exponential, but it never runs
// longer than the budget it is given.

const CHAR = 0;
const SPLIT = 1; // try a, then b
const JMP = 2;
const SAVE = 3;
const BOL = 4;
const EOL = 5;
const WORDB = 6;
const BACKREF = 7;
const LOOK = 8;
const MARK = 9; // regs[a] = pos
const CHECK = 10; // fail if regs[a] === pos (an empty iteration of a loop)
const CLEAR = 11; // unset captures a..b-1 (a new iteration of a quantified group)
const MATCH = 12;

interface Inst {
  op: number;
  a: number;
  b: number;
  /** CHAR: backward direction (lookbehind); BACKREF: backward; LOOK: negated. */
  flag: boolean;
  test?: (c: string) => boolean;
  /** LOOK: lookahead (true) or lookbehind. */
  ahead?: boolean;
}

/** The largest program accepted (counted repetitions are expanded); beyond it the pattern is refused.
 * It bounds what a few bytes of schema can cost in memory (`(?=a{9999})`: 12 bytes, 10,000
 * instructions), of the order of RE2's own limit of 1,000 per repetition. */
export const MAX_PROGRAM = 10_000;

export interface Program {
  insts: Inst[];
  slots: number;
  regs: number;
  /** The program starts with `^` on every path: only position 0 can match. */
  anchored: boolean;
}

/** Compiles a parsed pattern; throws RegexError when the expanded program would be too large. */
export function compileProgram(pattern: string, parsed: Parsed): Program {
  const insts: Inst[] = [];
  let regs = 0;
  const emit = (op: number, a = 0, b = 0, flag = false): number => {
    if (insts.length >= MAX_PROGRAM)
      throw new RegexError(
        pattern,
        "unsupported",
        "pattern too large (counted repetitions expand past the limit)",
      );
    insts.push({ op, a, b, flag });
    return insts.length - 1;
  };
  const captures = (n: Node): [number, number] | null => {
    // the range of capture indexes inside n
    let lo = Number.POSITIVE_INFINITY;
    let hi = -1;
    const walk = (m: Node): void => {
      if (m.t === "group" && m.index !== null) {
        lo = Math.min(lo, m.index);
        hi = Math.max(hi, m.index);
      }
      if (m.t === "seq") m.items.forEach(walk);
      else if (m.t === "alt") m.alts.forEach(walk);
      else if (m.t === "group" || m.t === "look" || m.t === "rep") walk(m.body);
    };
    walk(n);
    return hi < 0 ? null : [lo, hi];
  };
  const nullable = (n: Node): boolean => {
    switch (n.t) {
      case "char":
        return false;
      case "seq":
        return n.items.every(nullable);
      case "alt":
        return n.alts.some(nullable);
      case "group":
        return nullable(n.body);
      case "rep":
        return n.min === 0 || nullable(n.body);
      case "backref":
        return true;
      default:
        return true;
    }
  };

  const gen = (n: Node, back: boolean): void => {
    switch (n.t) {
      case "char": {
        const k = emit(CHAR, 0, 0, back);
        (insts[k] as Inst).test = n.test;
        return;
      }
      case "seq": {
        const items = back ? [...n.items].reverse() : n.items;
        for (const m of items) gen(m, back);
        return;
      }
      case "alt": {
        const jumps: number[] = [];
        n.alts.forEach((m, k) => {
          if (k < n.alts.length - 1) {
            const split = emit(SPLIT);
            (insts[split] as Inst).a = split + 1;
            gen(m, back);
            jumps.push(emit(JMP));
            (insts[split] as Inst).b = insts.length;
          } else gen(m, back);
        });
        for (const j of jumps) (insts[j] as Inst).a = insts.length;
        return;
      }
      case "group":
        if (n.index === null) {
          gen(n.body, back);
          return;
        }
        emit(SAVE, back ? 2 * n.index + 1 : 2 * n.index);
        gen(n.body, back);
        emit(SAVE, back ? 2 * n.index : 2 * n.index + 1);
        return;
      case "look": {
        const look = emit(LOOK, 0, 0, n.neg);
        (insts[look] as Inst).ahead = n.ahead;
        const jmp = emit(JMP);
        (insts[look] as Inst).a = insts.length;
        gen(n.body, !n.ahead);
        emit(MATCH);
        (insts[jmp] as Inst).a = insts.length;
        return;
      }
      case "rep": {
        const caps = captures(n.body);
        const once = (): void => {
          if (caps) emit(CLEAR, 2 * caps[0], 2 * caps[1] + 2);
          gen(n.body, back);
        };
        // a body that compiles to nothing (`(?:)`) matches empty whatever the count
        if (compilesToNothing(n.body)) return;
        for (let k = 0; k < n.min; k++) once();
        if (n.max === n.min) return;
        const check = nullable(n.body);
        if (n.max === Number.POSITIVE_INFINITY) {
          const reg = regs++;
          const split = emit(SPLIT);
          if (check) emit(MARK, reg);
          once();
          if (check) emit(CHECK, reg);
          emit(JMP, split);
          const exit = insts.length;
          const s = insts[split] as Inst;
          [s.a, s.b] = n.greedy ? [split + 1, exit] : [exit, split + 1];
          return;
        }
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          const reg = check ? regs++ : 0;
          splits.push(emit(SPLIT));
          if (check) emit(MARK, reg);
          once();
          if (check) emit(CHECK, reg);
        }
        const exit = insts.length;
        for (const split of splits) {
          const s = insts[split] as Inst;
          [s.a, s.b] = n.greedy ? [split + 1, exit] : [exit, split + 1];
        }
        return;
      }
      case "bol":
        emit(BOL);
        return;
      case "eol":
        emit(EOL);
        return;
      case "wordb":
        emit(WORDB, 0, 0, n.neg);
        return;
      case "backref":
        emit(BACKREF, n.index, 0, back);
        return;
    }
  };
  gen(parsed.root, false);
  emit(MATCH);
  const first = parsed.root.t === "seq" ? parsed.root.items[0] : parsed.root;
  return { insts, slots: 2 * (parsed.groups + 1), regs, anchored: first?.t === "bol" };
}

const compilesToNothing = (n: Node): boolean =>
  (n.t === "seq" && n.items.every(compilesToNothing)) ||
  (n.t === "group" && n.index === null && compilesToNothing(n.body));

const isWord = (c: string | undefined): boolean =>
  c !== undefined && c.length === 1 && /[A-Za-z0-9_]/.test(c);

/** The step counter of one `test` call; `charge` throws when the budget behind it is spent. */
export interface Steps {
  charge(steps: number): void;
}

const CHARGE_EVERY = 1024;
/** The most backtrack entries one match may hold (memory bound, besides the step budget). */
const MAX_STACK = 3_000_000;

/** Runs `prog` from `pc` at `pos`; true on a match (caps then hold the captures). */
function run(
  prog: Program,
  cps: string[],
  pc: number,
  pos: number,
  caps: number[],
  regs: number[],
  steps: Steps,
): boolean {
  const insts = prog.insts;
  const stack: number[] = []; // triples: kind (0 branch, 1 cap undo, 2 reg undo), a, b
  const n = cps.length;
  let local = 0;
  for (;;) {
    if (++local >= CHARGE_EVERY) {
      steps.charge(local);
      local = 0;
    }
    const inst = insts[pc] as Inst;
    let ok = true;
    switch (inst.op) {
      case CHAR:
        if (inst.flag) {
          if (pos > 0 && (inst.test as (c: string) => boolean)(cps[pos - 1] as string)) {
            pos--;
            pc++;
          } else ok = false;
        } else if (pos < n && (inst.test as (c: string) => boolean)(cps[pos] as string)) {
          pos++;
          pc++;
        } else ok = false;
        break;
      case SPLIT:
        if (stack.length >= MAX_STACK) steps.charge(Number.POSITIVE_INFINITY);
        stack.push(0, inst.b, pos);
        pc = inst.a;
        break;
      case JMP:
        pc = inst.a;
        break;
      case SAVE:
        stack.push(1, inst.a, caps[inst.a] as number);
        caps[inst.a] = pos;
        pc++;
        break;
      case BOL:
        if (pos === 0) pc++;
        else ok = false;
        break;
      case EOL:
        if (pos === n) pc++;
        else ok = false;
        break;
      case WORDB:
        if ((isWord(cps[pos - 1]) !== isWord(cps[pos])) !== inst.flag) pc++;
        else ok = false;
        break;
      case BACKREF: {
        const s = caps[2 * inst.a] as number;
        const e = caps[2 * inst.a + 1] as number;
        if (s < 0 || e < 0) {
          pc++;
          break;
        }
        const len = e - s;
        const from = inst.flag ? pos - len : pos;
        if (from < 0 || from + len > n) {
          ok = false;
          break;
        }
        local += len;
        for (let k = 0; k < len && ok; k++) if (cps[s + k] !== cps[from + k]) ok = false;
        if (ok) {
          pos = inst.flag ? from : from + len;
          pc++;
        }
        break;
      }
      case LOOK: {
        steps.charge(local + caps.length);
        local = 0;
        const saved = caps.slice();
        const matched = run(prog, cps, inst.a, pos, caps, regs, steps);
        if (matched === inst.flag) {
          for (let k = 0; k < caps.length; k++) caps[k] = saved[k] as number;
          ok = false;
        } else if (inst.flag) {
          for (let k = 0; k < caps.length; k++) caps[k] = saved[k] as number;
          pc++;
        } else {
          for (let k = 0; k < caps.length; k++)
            if (caps[k] !== saved[k]) stack.push(1, k, saved[k] as number);
          pc++;
        }
        // on success pc is the JMP over the lookaround's own program (which ends in MATCH)
        break;
      }
      case MARK:
        stack.push(2, inst.a, regs[inst.a] as number);
        regs[inst.a] = pos;
        pc++;
        break;
      case CHECK:
        if (regs[inst.a] === pos) ok = false;
        else pc++;
        break;
      case CLEAR:
        local += inst.b - inst.a;
        for (let k = inst.a; k < inst.b; k++) {
          if (caps[k] !== -1) {
            stack.push(1, k, caps[k] as number);
            caps[k] = -1;
          }
        }
        pc++;
        break;
      case MATCH:
        steps.charge(local);
        return true;
    }
    if (ok) continue;
    // backtrack: undo entries until a branch
    for (;;) {
      if (stack.length === 0) {
        steps.charge(local);
        return false;
      }
      local++;
      const b = stack.pop() as number;
      const a = stack.pop() as number;
      const kind = stack.pop() as number;
      if (kind === 0) {
        pc = a;
        pos = b;
        break;
      }
      if (kind === 1) caps[a] = b;
      else regs[a] = b;
    }
  }
}

/** An unanchored search, as `RegExp.prototype.test`: tries each start position in turn. */
export function search(prog: Program, s: string, steps: Steps): boolean {
  const cps = Array.from(s);
  steps.charge(cps.length);
  const last = prog.anchored ? 0 : cps.length;
  // a failed run undoes every capture and register it set, so one pair of arrays serves every start
  const caps = new Array<number>(prog.slots).fill(-1);
  const regs = new Array<number>(prog.regs).fill(-1);
  for (let start = 0; start <= last; start++) {
    steps.charge(1);
    if (run(prog, cps, 0, start, caps, regs, steps)) return true;
  }
  return false;
}
