import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../cache/db.js';
import { hashFileContents } from '../cache/fileContentHash.js';
import { FileState } from '../cache/fileState.js';
import { copyExample, osvd, removeCopies, startDaemon, stopDaemons, waitFor, type BuildJson } from './helpers.js';

// Every read of a file's bytes, counted (the module's own function, wrapped).
vi.mock('../cache/fileContentHash.js', async (original) => {
  const real = await original<typeof import('../cache/fileContentHash.js')>();
  return { ...real, hashFileContents: vi.fn(real.hashFileContents) };
});
const reads = vi.mocked(hashFileContents);

/**
 * A file hashed less than two seconds after it changed is racy: its stat may not move if it changes
 * again within the same tick, so the stat does not vouch for the hash and the next look reads it
 * again. A build hashes each output as soon as it is written: every output was read twice, the second
 * time by the next process (a daemon's first plan after a one-shot build). FileState.settleRacy reads
 * them again once their window has passed, while the build runs and in the daemon after it.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  removeCopies();
});
afterEach(() => stopDaemons());

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('racy hashes', () => {
  it('are read again once their window has passed: the stat then vouches, in this process and the next; a file changed since is forgotten', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-racy-'));
    dirs.push(root);
    const { db } = openDatabase(path.join(root, 'state.db'));
    const files = new FileState(db, root);
    fs.mkdirSync(path.join(root, 'out'));
    fs.writeFileSync(path.join(root, 'out/a.o'), 'object a');
    fs.writeFileSync(path.join(root, 'out/b.o'), 'object b');
    const a = files.hash('out/a.o');
    files.hash('out/b.o');
    files.flush();
    const racyOf = (p: string): number => (db.prepare('SELECT racy FROM files WHERE path = ?').get(p) as { racy: number }).racy;
    expect([racyOf('out/a.o'), racyOf('out/b.o')]).toEqual([1, 1]);
    // Too early: both are left.
    expect(files.settleRacy(1000)).toBe(2);
    // b is written again after its hash (its stat changes with it).
    fs.writeFileSync(path.join(root, 'out/b.o'), 'object b, longer');
    await sleep(2100);
    reads.mockClear();
    expect(files.settleRacy(1000)).toBe(0);
    // a read again (same bytes: it now vouches); b's stat differs, so it is forgotten, not read.
    expect(reads.mock.calls.map((c) => path.relative(root, c[0]))).toEqual(['out/a.o']);
    expect(files.looked('out/a.o')).toBe(true);
    expect(files.looked('out/b.o')).toBe(false);
    files.flush();
    expect(racyOf('out/a.o')).toBe(0);
    // Its next look (in another process: a FileState of its own) takes the row's hash without a read,
    // with the rows read one by one and in one pass.
    reads.mockClear();
    expect(new FileState(db, root).hash('out/a.o')).toBe(a);
    const bulk = new FileState(db, root);
    bulk.beginBulk();
    expect(bulk.hash('out/a.o')).toBe(a);
    bulk.endBulk();
    expect(reads).not.toHaveBeenCalled();
    // b, still racy in the table, is read by that next look, and its new bytes are what it gives.
    expect(bulk.hash('out/b.o')).toBe(hashFileContents(path.join(root, 'out/b.o')));
    expect(racyOf('out/b.o')).toBe(1);
    db.close();
  });

  it('a file dated ahead of the clock is racy only while its change is recent: then its stat vouches', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-racy-'));
    dirs.push(root);
    const { db } = openDatabase(path.join(root, 'state.db'));
    fs.writeFileSync(path.join(root, 'ahead.h'), '#define AHEAD 1\n');
    const hourAhead = new Date(Date.now() + 3600_000);
    fs.utimesSync(path.join(root, 'ahead.h'), hourAhead, hourAhead);
    await sleep(2100);
    const files = new FileState(db, root);
    reads.mockClear();
    const h = files.hash('ahead.h');
    files.flush();
    expect(reads).toHaveBeenCalledTimes(1);
    expect((db.prepare('SELECT racy FROM files WHERE path = ?').get('ahead.h') as { racy: number }).racy).toBe(0);
    expect(files.settleRacy(1000)).toBe(0);
    // The next process takes the row's hash without a read (it read the file at every look before).
    reads.mockClear();
    expect(new FileState(db, root).hash('ahead.h')).toBe(h);
    expect(reads).not.toHaveBeenCalled();
    db.close();
  });

  it('the daemon settles what its build left: every output row ends vouched for by its stat', async () => {
    const root = copyExample();
    startDaemon(root);
    const built = JSON.parse(osvd(root, ['build', '--json']).stdout) as BuildJson;
    expect(built.ok).toBe(true);
    expect(built.ran.length).toBeGreaterThan(20);
    const state = new Database(path.join(root, 'build/.osvd/state.db'), { readonly: true });
    try {
      const count = (racy: number): number => (state.prepare("SELECT count(*) AS n FROM files WHERE racy = ? AND path LIKE 'build/%'").get(racy) as { n: number }).n;
      // Within seconds of the build's end, no output row is racy any more.
      await waitFor('the racy rows to be settled', () => count(1) === 0 || undefined, 30_000);
      // Every output of the build has its row: the objects and their depfiles among them.
      const outputs = built.ran.flatMap((r) => [r.output]).filter((o) => o.endsWith('.o'));
      expect(outputs.length).toBeGreaterThan(20);
      const rows = new Set((state.prepare("SELECT path FROM files WHERE path LIKE 'build/%'").all() as { path: string }[]).map((r) => r.path));
      for (const o of outputs) expect(rows.has(o)).toBe(true);
      expect(count(0)).toBeGreaterThanOrEqual(outputs.length);
    } finally {
      state.close();
    }
  }, 300_000);
});
