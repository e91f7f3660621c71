/** A value a key looks up to, carrying its key: what `KeyHints` remembers. */
export interface Keyed {
  readonly key: string;
}

/**
 * What an object key looks up to (its subschema, whether it is required), remembered by the key's
 * position in the object's enumeration order. Objects of one shape enumerate their keys in one
 * order, so from the second object of a shape on, a lookup is one string comparison (interned
 * strings: a pointer comparison) instead of a hash lookup. Walking an object with `for...in` and
 * reading `object[key]` inside the loop is V8's fastest way to visit it: a keyed load with a key
 * that varies (`object[names[i]]`) goes through the megamorphic path in a compiled closure, whose
 * code every schema shares, and costs several times as much.
 *
 * The hints are a cache: a miss (a different shape, or a recursive use of the same check writing
 * the slot in between) only costs the lookup, never a wrong answer, since each hint is checked
 * against the key it was stored for.
 */
export class KeyHints<T extends Keyed> {
  private slots: Array<T | null> | null = null;

  constructor(
    /** Positions remembered: keys past it are looked up every time. */
    private readonly size: number,
    private readonly lookup: (key: string) => T | undefined,
  ) {}

  /** What `key`, at `position` in its object's key order, looks up to. */
  at(position: number, key: string): T | undefined {
    const slots = this.positions();
    if (position < slots.length) {
      const hint = slots[position] as T | null;
      if (hint !== null && hint.key === key) return hint;
    }
    return this.miss(position, key);
  }

  /**
   * The hints by position, for a walk that reads them itself (`slots[position]`, when its `key` is
   * the key at that position) and calls `miss` for the others. Allocated on first use: a compiled
   * schema that never validates an object keeps none.
   */
  positions(): ReadonlyArray<T | null> {
    let slots = this.slots;
    if (slots === null) slots = this.slots = new Array<T | null>(this.size).fill(null);
    return slots;
  }

  /** Looks `key` up, and remembers it at `position`. */
  miss(position: number, key: string): T | undefined {
    const found = this.lookup(key);
    if (found !== undefined && this.slots !== null && position < this.slots.length)
      this.slots[position] = found;
    return found;
  }
}

/** Positions a check remembers at most. */
export const MAX_KEY_HINTS = 64;
