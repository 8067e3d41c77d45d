import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OUT, build, copyExample, removeCopies, restoredOf, startDaemon, status, stopDaemons, waitFor } from './helpers.js';

/**
 * Outputs removed or rewritten while no build runs: the daemon's status says they are stale soon
 * after (before 2026-12-04 it said "up to date" until the next build looked at them).
 */
afterEach(stopDaemons);
afterAll(removeCopies);

const staleOf = (root: string): { run: number; restore: number; pending: number; upToDate: number } => status(root).dirty;

describe('outputs changed behind the daemon', () => {
  it('rm -rf of the build folder, then one object removed: status counts them stale; the build restores them', async () => {
    const root = copyExample();
    startDaemon(root);
    expect(build(root).ok).toBe(true);
    fs.rmSync(path.join(root, OUT), { recursive: true });
    const all = await waitFor('status to see the outputs gone', () => {
      const d = staleOf(root);
      return d.upToDate === 0 ? d : undefined;
    });
    expect(all.run + all.restore + all.pending).toBe(74);
    const back = build(root);
    expect(back.ok).toBe(true);
    expect(back.ran).toEqual([]);
    expect(back.restored.length).toBe(73);

    fs.rmSync(path.join(root, OUT, 'core/sched.o'));
    const one = await waitFor('status to see the object gone', () => {
      const d = staleOf(root);
      return d.restore === 1 ? d : undefined;
    });
    expect(one).toMatchObject({ run: 0, restore: 1, pending: 5 });
    const again = build(root);
    expect(restoredOf(again)).toEqual([`${OUT}/core/sched.o`]);
    expect(again.ran).toEqual([]);
  });
});
