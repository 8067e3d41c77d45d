import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from '../cache/db.js';
import { FileState } from '../cache/fileState.js';
import { TraceDb } from '../cache/traceDb.js';
import type { RunRecord } from '../graph/traces.js';

/**
 * A daemon's first plan reads the stat rows and the last runs in one pass each (FileState.beginBulk,
 * TraceDb.preloadLastRuns) instead of a query per path and per action: it must answer exactly what
 * the queries one by one answer, and never older rows than this process wrote.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function freshRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bulk-'));
  dirs.push(dir);
  return dir;
}

function runOf(i: number, v = 0): RunRecord {
  return {
    actionId: `build/t${i}.o`,
    key: `key-${i}-${v}`,
    preKey: `pre-${i}`,
    commands: [`cc -c t${i}.c -o build/t${i}.o`],
    keyEnv: {},
    inputs: [[`t${i}.c`, `src${i}`]],
    deps: [
      [`t${i}.c`, `src${i}`],
      ['include/h.h', 'h1'],
    ],
    outputs: [{ path: `build/t${i}.o`, hash: `obj${i}-${v}`, mode: 0o644, size: 10 }],
    context: {},
    durationMs: 5,
    finishedAt: 1_000 + i,
  };
}

describe('reads in one pass', () => {
  it('the last runs preloaded are the ones read one by one; a run not written yet wins; an action without one has none', async () => {
    const file = path.join(freshRoot(), 'state.db');
    const { db } = openDatabase(file);
    const writer = new TraceDb(db);
    for (let i = 0; i < 1500; i++) writer.recordRun(runOf(i));
    writer.flush();
    const ids = new Map<string, unknown>([...Array(1500).keys(), 1500, 1501].map((i) => [`build/t${i}.o`, i]));
    const preloaded = new TraceDb(db);
    // This process recorded a newer run of t7 than the table holds (queued, not written yet).
    preloaded.recordRun(runOf(7, 1));
    // Read a page at a time; between pages, this process records a newer run of t1200 (a build
    // while the daemon loads its graph): the newer run wins over the row read after it.
    let pauses = 0;
    await preloaded.preloadLastRuns(ids, async () => {
      if (pauses++ === 0) preloaded.recordRun(runOf(1200, 1));
      await new Promise((r) => setImmediate(r));
    });
    expect(pauses).toBe(1);
    expect(preloaded.lastRun('build/t1200.o')?.key).toBe('key-1200-1');
    const oneByOne = new TraceDb(db);
    for (let i = 0; i < 1500; i++) if (i !== 7 && i !== 1200) expect(preloaded.lastRun(`build/t${i}.o`), `t${i}`).toEqual(oneByOne.lastRun(`build/t${i}.o`));
    expect(preloaded.lastRun('build/t7.o')?.key).toBe('key-7-1');
    expect(preloaded.lastRun('build/t1500.o')).toBeUndefined();
    // Preloaded runs share their paths and hashes as runs read one by one do.
    expect(preloaded.lastRun('build/t3.o')!.deps[1]).toBe(preloaded.lastRun('build/t4.o')!.deps[1]);
    closeDatabase(db);
  });

  it('the stat rows read in bulk give the hashes the rows one by one give, for unchanged, changed, new and missing files and a folder', () => {
    const root = freshRoot();
    const { db } = openDatabase(path.join(root, 'state.db'));
    const names = ['same.c', 'changed.c', 'gone.c'];
    for (const n of names) fs.writeFileSync(path.join(root, n), `int ${n.replace('.c', '')};\n`);
    fs.mkdirSync(path.join(root, 'sub'));
    const first = new FileState(db, root);
    for (const n of [...names, 'sub']) first.hash(n);
    first.flush();
    fs.writeFileSync(path.join(root, 'changed.c'), 'int changed_now_longer;\n');
    fs.rmSync(path.join(root, 'gone.c'));
    fs.writeFileSync(path.join(root, 'new.c'), 'int fresh;\n');
    const all = [...names, 'new.c', 'sub', 'never.c'];
    const bulk = new FileState(db, root);
    bulk.beginBulk();
    const inBulk = all.map((n) => bulk.hash(n));
    // Rows written while the bulk read is held replace its own: a path looked at again gets them.
    bulk.flush();
    bulk.invalidate('changed.c');
    expect(bulk.hash('changed.c')).toBe(inBulk[1]);
    bulk.endBulk();
    const oneByOne = new FileState(db, root);
    expect(inBulk).toEqual(all.map((n) => oneByOne.hash(n)));
    expect(inBulk[0]).toBe(first.hash('same.c'));
    expect(inBulk[1]).not.toBe(first.hash('changed.c'));
    expect(inBulk[2]).toBeNull();
    expect(inBulk[4]).toBe('dir');
    expect(inBulk[5]).toBeNull();
    closeDatabase(db);
  });
  it('the stat rows read a page at a time (the daemon, pausing between pages) are all there, the last page too', async () => {
    const root = freshRoot();
    const { db } = openDatabase(path.join(root, 'state.db'));
    for (const n of ['a.c', 'b.c', 'c.c']) fs.writeFileSync(path.join(root, n), `int ${n[0]};\n`);
    const first = new FileState(db, root);
    first.hash('a.c');
    first.hash('b.c');
    first.flush();
    // 25,000 rows of files that do not exist, then c.c's with its true stat and a hash only the row has:
    // a look that reads its bytes would give another; one that finds the row gives this one.
    const filler = db.prepare("INSERT INTO files (path, size, mtime_ns, ctime_ns, ino, hash, racy) VALUES (?, 1, '1', '1', '1', 'x', 0)");
    db.transaction(() => {
      for (let i = 0; i < 25_000; i++) filler.run(`filler/${i}.c`);
    })();
    const st = fs.lstatSync(path.join(root, 'c.c'), { bigint: true });
    db.prepare("INSERT INTO files (path, size, mtime_ns, ctime_ns, ino, hash, racy) VALUES ('c.c', ?, ?, ?, ?, 'only-in-the-row', 0)").run(Number(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino));
    const paged = new FileState(db, root);
    let pauses = 0;
    await paged.beginBulkPaged(async () => {
      pauses++;
      await new Promise((r) => setImmediate(r));
    });
    // 25,003 rows, 10,000 a page: three pages, a pause between each two.
    expect(pauses).toBe(2);
    const onePass = new FileState(db, root);
    onePass.beginBulk();
    for (const n of ['a.c', 'b.c', 'c.c', 'filler/24999.c', 'none.c']) expect(paged.hash(n), n).toBe(onePass.hash(n));
    expect(paged.hash('c.c')).toBe('only-in-the-row');
    expect(paged.hash('a.c')).toBe(first.hash('a.c'));
    paged.endBulk();
    onePass.endBulk();
    closeDatabase(db);
  });
});
