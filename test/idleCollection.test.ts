import { describe, expect, it } from 'vitest';
import { IdleCollection } from '../daemon/idleCollection.js';

const MB = 1024 * 1024;
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('idle collection', () => {
  it('collects after a build that grew the heap by 64 MB or more since the last collection, not after a small one', async () => {
    let heap = 100 * MB;
    const collected: number[] = [];
    const gc = new IdleCollection({ collect: () => (collected.push(heap), (heap -= 30 * MB)), heapUsed: () => heap, delayMs: 5 });
    // The first one collects (an import just left its garbage).
    gc.soon();
    await wait(30);
    expect(collected).toEqual([100 * MB]);
    // 70 MB after it: a small build's garbage (+10 MB) is left alone, twice.
    heap += 10 * MB;
    gc.soon();
    await wait(30);
    heap += 50 * MB;
    gc.soon();
    await wait(30);
    expect(collected).toEqual([100 * MB]);
    // 70 + 64 MB: collected.
    heap += 4 * MB;
    gc.soon();
    await wait(30);
    expect(collected).toEqual([100 * MB, 134 * MB]);
    expect(gc.collections).toBe(2);
  });

  it('a build that starts first puts the collection off', async () => {
    let collections = 0;
    const gc = new IdleCollection({ collect: () => collections++, heapUsed: () => 500 * MB, delayMs: 20 });
    gc.soon();
    await wait(5);
    gc.putOff();
    await wait(40);
    expect(collections).toBe(0);
    gc.soon();
    await wait(50);
    expect(collections).toBe(1);
  });
});
