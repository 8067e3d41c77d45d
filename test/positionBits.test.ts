import { describe, expect, it } from 'vitest';
import { PositionBits } from '../graph/positionBits.js';
import { prng } from '../bench/prng.js';

describe('position bits', () => {
  it('hold what a Set holds through random adds and deletes, bit 31 of each word included', () => {
    const next = prng(20261202);
    const bits = new PositionBits(200);
    const set = new Set<number>();
    for (let step = 0; step < 5000; step++) {
      const i = next() < 0.2 ? 31 + 32 * Math.floor(next() * 6) : Math.floor(next() * 200);
      if (next() < 0.6) {
        bits.add(i);
        set.add(i);
      } else {
        bits.delete(i);
        set.delete(i);
      }
      expect(bits.size).toBe(set.size);
      expect(bits.has(i)).toBe(set.has(i));
    }
    const listed: number[] = [];
    bits.forEach((i) => listed.push(i));
    expect(listed).toEqual([...set].sort((a, b) => a - b));
    expect(bits.first()).toBe(listed[0]);
    for (const i of listed) bits.delete(i);
    expect(bits.size).toBe(0);
    expect(bits.first()).toBeUndefined();
    expect(PositionBits.bytesFor(50_000)).toBe(6252);
  });
});
