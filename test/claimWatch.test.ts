import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../base/process.js';
import { build, copyExample, removeCopies, startDaemon, status, stopDaemons, waitFor } from './helpers.js';

/**
 * A daemon whose files are removed (`rm -rf build`) or moved with the tree can no longer be reached,
 * and a new one may start for the tree: the old one stops by itself, and removes nothing of the new
 * one's. Before 2026-12-04 it lived on, watching the tree and holding a removed database, for good.
 */
afterEach(stopDaemons);
const moved: string[] = [];
afterAll(() => {
  removeCopies();
  for (const d of moved) fs.rmSync(d, { recursive: true, force: true });
});

describe("a daemon's files gone", () => {
  it('rm -rf build: the daemon stops by itself; a tree moved away: likewise', async () => {
    const root = copyExample();
    const first = startDaemon(root);
    fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });
    await waitFor('the daemon to stop once its files are gone', () => !isAlive(first), 15_000);
    expect(status(root).daemon.running).toBe(false);

    const second = startDaemon(root);
    expect(build(root).ok).toBe(true);
    const elsewhere = `${root}-moved`;
    moved.push(elsewhere);
    fs.renameSync(root, elsewhere);
    await waitFor('the daemon of the moved tree to stop', () => !isAlive(second), 15_000);
    fs.renameSync(elsewhere, root);
  });

  it("a daemon stopped after a newer one took its place leaves the newer one's socket", async () => {
    const root = copyExample();
    // It would notice by itself in 2 s; here the test stops it, once the newer one listens.
    const old = startDaemon(root, { OSVD_CLAIM_CHECK_MS: '600000' });
    fs.rmSync(path.join(root, 'build/.osvd'), { recursive: true, force: true });
    const newer = startDaemon(root);
    process.kill(old, 'SIGTERM');
    await waitFor('the old daemon to stop', () => !isAlive(old), 15_000);
    const s = status(root);
    expect(s.daemon).toMatchObject({ running: true, pid: newer });
  });
});
