import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from '../cache/db.js';
import { TraceDb } from '../cache/traceDb.js';
import type { RunRecord } from '../graph/traces.js';

/**
 * The traces findMatch keeps decoded in memory must answer as the database does: a run recorded after
 * they were read is found, the sixteen newest are kept per pre-key, and a process that reads them
 * afresh from the file finds the same ones.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function freshDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-traces-'));
  dirs.push(dir);
  return path.join(dir, 'state.db');
}

/** A compile's run whose header `include/h.h` had content `v`. */
function run(v: number, preKey = 'pre'): RunRecord {
  return {
    actionId: 'build/a.o',
    key: `key-${preKey}-${v}`,
    preKey,
    commands: ['cc -c a.c -o build/a.o'],
    keyEnv: {},
    inputs: [['a.c', 'src']],
    deps: [
      ['a.c', 'src'],
      ['include/h.h', `h${v}`],
    ],
    outputs: [{ path: 'build/a.o', hash: `obj${v}`, mode: 0o644, size: 10 + v }],
    context: {},
    durationMs: 5,
    finishedAt: 1_000 + v,
  };
}

/** findMatch as the rebuilder asks it, with the header's content now `v`: the matching run's object hash. */
function found(traces: TraceDb, v: number, preKey = 'pre'): string | undefined {
  const now = new Map([
    ['a.c', 'src'],
    ['include/h.h', `h${v}`],
  ]);
  return traces.findMatch(preKey, (p) => now.get(p) ?? null, INPUTS)?.outputs[0]?.hash;
}

/** The declared inputs with their hashes now, as the rebuilder passes them (the pre-key commits to them). */
const INPUTS = [['a.c', 'src']] as const;

describe('verifying traces in memory and in SQLite', () => {
  it('find a run recorded after the traces were read, keep the sixteen newest, and agree with a fresh read', () => {
    const file = freshDb();
    const { db } = openDatabase(file);
    const traces = new TraceDb(db);
    traces.recordRun(run(0));
    traces.flush();
    // Read (and kept in memory) before the next runs exist.
    expect(found(traces, 0)).toBe('obj0');
    expect(found(traces, 1)).toBeUndefined();
    for (let v = 1; v <= 19; v++) {
      traces.recordRun(run(v));
      if (v % 5 === 0) traces.flush();
      // Each run is found at once, queued or written.
      expect(found(traces, v)).toBe(`obj${v}`);
    }
    traces.flush();
    const kept = (t: TraceDb): number[] => [...Array(20).keys()].filter((v) => found(t, v) === `obj${v}`);
    expect(kept(traces)).toEqual([...Array(16).keys()].map((i) => i + 4));
    // The same run recorded again is one trace, not two: the oldest of the sixteen stays.
    traces.recordRun(run(19));
    traces.flush();
    expect(kept(traces)).toEqual([...Array(16).keys()].map((i) => i + 4));
    expect((db.prepare('SELECT COUNT(*) AS n FROM traces WHERE pre_key = ?').get('pre') as { n: number }).n).toBe(16);
    closeDatabase(db);
    const again = openDatabase(file).db;
    expect(kept(new TraceDb(again))).toEqual([...Array(16).keys()].map((i) => i + 4));
    closeDatabase(again);
  });

  it('a trace found in memory whose row another process pruned is no match (the action runs)', () => {
    const file = freshDb();
    const { db } = openDatabase(file);
    const traces = new TraceDb(db);
    traces.recordRun(run(1, 'p2'));
    traces.flush();
    const fresh = new TraceDb(db);
    expect(found(fresh, 2, 'p2')).toBeUndefined(); // reads p2's traces into memory
    db.prepare('DELETE FROM traces WHERE pre_key = ?').run('p2');
    expect(found(fresh, 1, 'p2')).toBeUndefined();
    closeDatabase(db);
  });

  it('keep a trace without its inputs, and give a run matched from the file the inputs the pre-key commits to', () => {
    const file = freshDb();
    const { db } = openDatabase(file);
    const traces = new TraceDb(db);
    const objects = [...Array(500).keys()].map((i) => [`build/o${i}.o`, `h${i}`] as const);
    const link = { ...run(1, 'link'), actionId: 'build/loader.elf', inputs: objects, deps: [] };
    traces.recordRun(link);
    traces.flush();
    const stored = db.prepare('SELECT t.record AS trace, l.record AS last FROM traces t JOIN last_runs l ON l.action_id = ? WHERE t.pre_key = ?').get('build/loader.elf', 'link') as { trace: string; last: string };
    expect((JSON.parse(stored.trace) as RunRecord).inputs).toEqual([]);
    expect((JSON.parse(stored.last) as RunRecord).inputs).toEqual(objects);
    expect(stored.trace.length).toBeLessThan(stored.last.length / 10);
    // A fresh reader (another daemon, a one-shot build) matches it from the file, inputs given back.
    const match = new TraceDb(db).findMatch('link', () => null, objects);
    expect(match?.run.inputs).toEqual(objects);
    expect(match?.outputs).toEqual(link.outputs);
    closeDatabase(db);
  });

  it('keep a trace\'s deps once (in their column, not in its record), and give a run matched from the file its deps and inputs', () => {
    const file = freshDb();
    const { db } = openDatabase(file);
    const traces = new TraceDb(db);
    const recorded = run(3);
    traces.recordRun(recorded);
    traces.flush();
    const row = db.prepare('SELECT deps, record FROM traces WHERE pre_key = ?').get('pre') as { deps: string; record: string };
    expect(JSON.parse(row.deps)).toEqual(recorded.deps);
    expect((JSON.parse(row.record) as RunRecord).deps).toEqual([]);
    const last = db.prepare('SELECT record FROM last_runs WHERE action_id = ?').get('build/a.o') as { record: string };
    expect(JSON.parse(last.record)).toEqual(recorded);
    // A fresh reader matches it from the file: the whole run comes back, deps included.
    const match = new TraceDb(db).findMatch('pre', (p) => new Map(recorded.deps).get(p) ?? null, INPUTS);
    expect(match?.run).toEqual(recorded);
    expect(match?.deps).toEqual(recorded.deps);
    closeDatabase(db);
  });

  it('drop, when they are written, the runs a header changed under: each header stat\'ed once, the rest written, the dropped named', () => {
    const file = freshDb();
    const { db } = openDatabase(file);
    const traces = new TraceDb(db);
    traces.recordRun(run(1));
    traces.flush();
    // include/h.h was modified at t=2,000: the run started at 1,500 read it while it changed; the one
    // started at 2,500 after. Another action, started at 1,500, read only a.c.
    const stats: string[] = [];
    const changedMs = (p: string): number | null => {
      stats.push(p);
      return p === 'include/h.h' ? 2_000 : 500;
    };
    const paths = ['a.c', 'include/h.h'];
    const other = { ...run(3, 'other'), actionId: 'build/b.o' };
    traces.recordRun(run(2), { startedAt: 1_500, paths, made: [], changedMs });
    traces.recordRun(other, { startedAt: 1_500, paths: ['a.c'], made: [], changedMs });
    expect(traces.settleRaces()).toEqual([{ actionId: 'build/a.o', paths: ['include/h.h'] }]);
    expect(stats.sort()).toEqual(['a.c', 'include/h.h']);
    // Dropped: the last run is the one before, in memory and in the file; its trace is not found.
    expect(traces.lastRun('build/a.o')?.key).toBe('key-pre-1');
    expect(found(traces, 2)).toBeUndefined();
    expect(found(traces, 1)).toBe('obj1');
    const fresh = new TraceDb(db);
    expect(fresh.lastRun('build/a.o')?.key).toBe('key-pre-1');
    expect(found(fresh, 2)).toBeUndefined();
    expect(fresh.lastRun('build/b.o')?.key).toBe('key-other-3');
    // Said once: the next call has nothing.
    expect(traces.settleRaces()).toEqual([]);
    // Asked for before it is written (the daemon deciding again during the build), it is checked then:
    // never the last run, never matched.
    traces.recordRun(run(2), { startedAt: 1_500, paths, made: [], changedMs });
    expect(traces.lastRun('build/a.o')?.key).toBe('key-pre-1');
    expect(found(traces, 2)).toBeUndefined();
    traces.recordRun(run(2), { startedAt: 1_500, paths, made: [], changedMs });
    expect(found(traces, 2)).toBeUndefined();
    expect(traces.lastRun('build/a.o')?.key).toBe('key-pre-1');
    expect(traces.settleRaces()).toEqual([
      { actionId: 'build/a.o', paths: ['include/h.h'] },
      { actionId: 'build/a.o', paths: ['include/h.h'] },
    ]);
    expect(new TraceDb(db).lastRun('build/a.o')?.key).toBe('key-pre-1');
    // A run that started after the change is kept.
    traces.recordRun(run(2), { startedAt: 2_500, paths, made: [], changedMs });
    expect(traces.lastRun('build/a.o')?.key).toBe('key-pre-2');
    expect(traces.settleRaces()).toEqual([]);
    expect(new TraceDb(db).lastRun('build/a.o')?.key).toBe('key-pre-2');
    // File times lag the clock: a source dated 10 ms before the run started counts as changed under
    // it; a file an action of the build made (its maker finished just before) does not.
    const lagging = (p: string): number | null => (p === 'include/h.h' ? 2_990 : 500);
    traces.recordRun(run(3), { startedAt: 3_000, paths: ['include/h.h'], made: [], changedMs: lagging });
    expect(traces.settleRaces()).toEqual([{ actionId: 'build/a.o', paths: ['include/h.h'] }]);
    traces.recordRun(run(3), { startedAt: 3_000, paths: [], made: ['include/h.h'], changedMs: lagging });
    expect(traces.settleRaces()).toEqual([]);
    closeDatabase(db);
  });
});

describe('a database that cannot grow (a full disk: SQLite\'s max_page_count gives the same SQLITE_FULL)', () => {
  it('runs the timer could not write stay queued and answered; the next flush says why; written once there is room', async () => {
    const file = freshDb();
    const { db } = openDatabase(file);
    const traces = new TraceDb(db);
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = (v: number): RunRecord => ({ ...run(v, `pre${v}`), actionId: `build/a${v}.o`, commands: [`cc ${'-DX '.repeat(3000)}-c a${v}.c`] });
    for (let v = 0; v < 20; v++) traces.recordRun(big(v));
    // The timer's flush (100 ms) meets the full database: it must not end the process (vitest fails
    // a run on an uncaught error), and the runs stay in the queue.
    await new Promise((r) => setTimeout(r, 400));
    expect(traces.lastRun('build/a3.o')?.key).toBe('key-pre3-3');
    expect(() => traces.flush()).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }));
    db.pragma('max_page_count = 1000000');
    traces.flush();
    closeDatabase(db);
    const again = openDatabase(file).db;
    const fresh = new TraceDb(again);
    expect([...Array(20).keys()].filter((v) => fresh.lastRun(`build/a${v}.o`)?.key === `key-pre${v}-${v}`)).toHaveLength(20);
    closeDatabase(again);
  });
});
