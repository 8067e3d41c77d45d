/**
 * A set of small non-negative integers (an action's position in the plan's order) as one bit each:
 * the readers of a path many actions read. At 50,000 TUs a header every TU reads costs 6.25 KB here,
 * where a Set of its readers' names cost about 1.2 MB (see LivePlan's `readers`).
 */
export class PositionBits {
  private readonly words: Uint32Array;
  private count = 0;

  /** Positions from 0 to `capacity` - 1. */
  constructor(capacity: number) {
    this.words = new Uint32Array((capacity + 31) >>> 5);
  }

  /** What the set costs in bytes for `capacity` positions. */
  static bytesFor(capacity: number): number {
    return ((capacity + 31) >>> 5) * 4;
  }

  get size(): number {
    return this.count;
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w]! & bit) !== 0) return;
    this.words[w] = this.words[w]! | bit;
    this.count++;
  }

  delete(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w]! & bit) === 0) return;
    this.words[w] = this.words[w]! & ~bit;
    this.count--;
  }

  /** Calls `f` with each position, in ascending order. */
  forEach(f: (i: number) => void): void {
    const words = this.words;
    for (let w = 0; w < words.length; w++) {
      let x = words[w]! | 0;
      while (x !== 0) {
        const low = x & -x;
        f((w << 5) | (31 - Math.clz32(low)));
        x ^= low;
      }
    }
  }

  /** Any one position in the set (the lowest), or undefined when it is empty. */
  first(): number | undefined {
    let found: number | undefined;
    const words = this.words;
    for (let w = 0; w < words.length && found === undefined; w++) {
      const x = words[w]! | 0;
      if (x !== 0) found = (w << 5) | (31 - Math.clz32(x & -x));
    }
    return found;
  }
}
