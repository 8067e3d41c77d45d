import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collectGarbage, IdleCollection } from '../daemon/idleCollection.js';

/** The daemon's idle collections, on a heap that only says how much it holds (fake timers: no test waits). */
const MB = 1024 * 1024;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('idle collection', () => {
  it('collects after a build that grew the heap by 64 MB or more since the last collection, not after a small one', () => {
    let heap = 100 * MB;
    const collected: number[] = [];
    const gc = new IdleCollection({ collect: () => (collected.push(heap), (heap -= 30 * MB)), heapUsed: () => heap, fragmented: () => false, delayMs: 100, restMs: 10_000 });
    // The first one collects (an import just left its garbage).
    gc.soon();
    vi.advanceTimersByTime(100);
    expect(collected).toEqual([100 * MB]);
    // 70 MB after it: small builds' garbage (+10, then +50 MB) is not collected at once.
    heap += 10 * MB;
    gc.soon();
    vi.advanceTimersByTime(200);
    heap += 50 * MB;
    gc.soon();
    vi.advanceTimersByTime(200);
    expect(collected).toEqual([100 * MB]);
    // 70 + 64 MB: collected at once.
    heap += 4 * MB;
    gc.soon();
    vi.advanceTimersByTime(100);
    expect(collected).toEqual([100 * MB, 134 * MB]);
    expect(gc.collections).toBe(2);
  });

  it('after a small build, collects once the daemon has rested, unless a build comes first', () => {
    let heap = 100 * MB;
    const collected: number[] = [];
    const gc = new IdleCollection({ collect: () => (collected.push(heap), (heap -= 5 * MB)), heapUsed: () => heap, fragmented: () => false, delayMs: 100, restMs: 10_000 });
    gc.soon();
    vi.advanceTimersByTime(100);
    expect(collected).toEqual([100 * MB]);
    // +10 MB: not at once; a build 5 s later puts the rest's collection off, and its end starts it again.
    heap += 10 * MB;
    gc.soon();
    vi.advanceTimersByTime(5_000);
    gc.putOff();
    vi.advanceTimersByTime(20_000);
    expect(collected).toEqual([100 * MB]);
    gc.soon();
    vi.advanceTimersByTime(10_099);
    expect(collected).toEqual([100 * MB]);
    vi.advanceTimersByTime(1);
    expect(collected).toEqual([100 * MB, 105 * MB]);
    // +4 MB since: below what a rest collects for.
    heap += 4 * MB;
    gc.soon();
    vi.advanceTimersByTime(60_000);
    expect(collected).toEqual([100 * MB, 105 * MB]);
  });

  it('at rest, collects a heap that did not grow when its pages are fragmented, once', () => {
    let fragmented = true;
    const collected: number[] = [];
    const gc = new IdleCollection({ collect: () => (collected.push(1), (fragmented = false)), heapUsed: () => 100 * MB, fragmented: () => fragmented, delayMs: 100, restMs: 10_000 });
    gc.soon();
    vi.advanceTimersByTime(100);
    expect(collected).toEqual([1]);
    // No growth since: the rest collects only because the pages are fragmented again.
    fragmented = true;
    gc.soon();
    vi.advanceTimersByTime(10_099);
    expect(collected).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(collected).toEqual([1, 1]);
    gc.soon();
    vi.advanceTimersByTime(60_000);
    expect(collected).toEqual([1, 1]);
  });

  it('a build that starts first puts the collection off', () => {
    let collections = 0;
    const gc = new IdleCollection({ collect: () => collections++, heapUsed: () => 500 * MB, fragmented: () => false, delayMs: 100, restMs: 10_000 });
    gc.soon();
    vi.advanceTimersByTime(50);
    gc.putOff();
    vi.advanceTimersByTime(1_000);
    expect(collections).toBe(0);
    gc.soon();
    vi.advanceTimersByTime(100);
    expect(collections).toBe(1);
  });
});

describe('collectGarbage', () => {
  const oldSpace = (): { free: number; used: number } => {
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'old_space')!;
    return { free: s.space_size - s.space_used_size, used: s.space_used_size };
  };

  it('gives back the pages a plain full collection leaves half empty, and keeps every live object', () => {
    vi.useRealTimers();
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // About 100 MB of small objects, moved to the old generation, then every other one dropped: each
    // page is left half full, which V8's own full collections do not compact.
    let all: { readonly n: number; readonly text: string }[] = [];
    for (let i = 0; i < 1_000_000; i++) all.push({ n: i, text: `object ${i}` });
    gc();
    gc();
    const kept = all.filter((o) => o.n % 2 === 0);
    all = [];
    gc();
    const plain = oldSpace();
    expect(plain.free).toBeGreaterThan(32 * MB);
    collectGarbage(gc);
    const after = oldSpace();
    expect(after.free).toBeLessThan(plain.free / 4);
    expect(kept.length).toBe(500_000);
    expect(kept.every((o, i) => o.n === 2 * i && o.text === `object ${2 * i}`)).toBe(true);
  });
});
