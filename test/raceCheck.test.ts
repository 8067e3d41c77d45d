import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../cache/db.js';
import { FileState } from '../cache/fileState.js';
import { ContentStore } from '../cache/store.js';
import { StringPool } from '../cache/strings.js';
import { TraceDb } from '../cache/traceDb.js';
import type { Action } from '../graph/action.js';
import { build } from '../graph/builder.js';
import type { BuildResult } from '../graph/buildResult.js';
import { BuildGraph } from '../graph/graph.js';
import { CLOCK_SLACK_MS } from '../graph/traces.js';

/**
 * A run whose inputs or discovered headers changed while it ran is not recorded (runAndRecord's race
 * check), with the real builder, shells, file state and database. The inputs are dated an hour back,
 * so that their stat alone vouches for them (no re-read because they were hashed just after a change):
 * what the check sees is what the commands did. Their change times cannot be dated back: each build
 * starts more than the check's slack (CLOCK_SLACK_MS) after the files were written.
 */
const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function action(id: string, inputs: string[], command: string, depfile?: string): Action {
  return { id, kind: 'compile', commands: [command], cwd: '.', env: { PATH: process.env.PATH! }, keyEnv: {}, inputs, orderAfter: [], outputs: [id], ...(depfile ? { depfile } : {}) };
}

/** Past the race check's slack after writing the inputs (their change time is now). */
function pastSlack(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 4 * CLOCK_SLACK_MS));
}

async function buildOnce(root: string, actions: Action[]): Promise<BuildResult> {
  const { db } = openDatabase(path.join(root, 'state.db'));
  const strings = new StringPool();
  const scratch = path.join(root, 'tmp');
  fs.mkdirSync(scratch, { recursive: true });
  const services = { files: new FileState(db, root, strings), traces: new TraceDb(db, strings), store: new ContentStore(db, path.join(root, 'store'), root, { scratchDir: scratch }) };
  try {
    return await build(new BuildGraph(actions), services, { root, jobs: 2, context: {}, scratchDir: scratch });
  } finally {
    services.traces.flush();
    services.files.flush();
    await services.store.settled();
    services.store.close();
    db.close();
  }
}

describe('race check', () => {
  it('a run whose input or depfile header changed while it ran is not recorded and runs again; the others are', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-race-'));
    made.push(root);
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const [name, text] of [['a.in', 'a\n'], ['b.c', 'b\n'], ['b.h', 'h\n'], ['c.in', 'c\n'], ['d.c', 'd\n'], ['d.h', 'dh\n']] as const) {
      fs.writeFileSync(path.join(root, name), text);
      fs.utimesSync(path.join(root, name), hourAgo, hourAgo);
    }
    const actions = [
      // Its declared input grows after it was read.
      action('a.out', ['a.in'], 'cat a.in > a.out && echo more >> a.in'),
      // A header its depfile names changes after it was read.
      action('b.o', ['b.c'], "cat b.c b.h > b.o && printf 'b.o: b.c b.h\\n' > b.d && echo more >> b.h", 'b.d'),
      // Nothing it read changes.
      action('c.out', ['c.in'], 'cat c.in > c.out'),
      action('d.o', ['d.c'], "cat d.c d.h > d.o && printf 'd.o: d.c d.h\\n' > d.d", 'd.d'),
    ];
    await pastSlack();
    const first = await buildOnce(root, actions);
    expect(first.ok).toBe(true);
    expect(first.ran.map((r) => r.id).sort()).toEqual(['a.out', 'b.o', 'c.out', 'd.o']);
    expect([...first.raced].sort()).toEqual(['a.out', 'b.o']);
    expect(first.racedBecause).toEqual({ 'a.out': ['a.in'], 'b.o': ['b.h'] });

    // The raced runs were not recorded: they run again (and race again); the others are up to date.
    const second = await buildOnce(root, actions);
    expect(second.ran.map((r) => r.id).sort()).toEqual(['a.out', 'b.o']);
    expect(second.upToDate).toBe(2);
    expect([...second.raced].sort()).toEqual(['a.out', 'b.o']);
  });

  it('a header rewritten while read, its old modification time put back (tar, cp -p), is caught by its change time', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-race-'));
    made.push(root);
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const [name, text] of [['e.c', 'e\n'], ['e.h', 'eh\n']] as const) {
      fs.writeFileSync(path.join(root, name), text);
      fs.utimesSync(path.join(root, name), hourAgo, hourAgo);
    }
    // `touch -r e.c` puts the hour-old time back: only the change time says the header changed.
    const actions = [action('e.o', ['e.c'], "cat e.c e.h > e.o && printf 'e.o: e.c e.h\\n' > e.d && echo more >> e.h && touch -r e.c e.h", 'e.d')];
    await pastSlack();
    const first = await buildOnce(root, actions);
    expect(first.ok).toBe(true);
    expect(first.racedBecause).toEqual({ 'e.o': ['e.h'] });
    // Not recorded with the header's new hash: e.o, made from the old header, is not trusted.
    const second = await buildOnce(root, actions);
    expect(second.ran.map((r) => r.id)).toEqual(['e.o']);
  });

  it('files dated an hour ahead (a clock ahead elsewhere, touch -d) are trusted: nothing runs twice', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-race-'));
    made.push(root);
    const hourAhead = new Date(Date.now() + 3600_000);
    for (const [name, text] of [['f.c', 'f\n'], ['f.h', 'fh\n'], ['g.in', 'g\n']] as const) {
      fs.writeFileSync(path.join(root, name), text);
      fs.utimesSync(path.join(root, name), hourAhead, hourAhead);
    }
    const actions = [action('f.o', ['f.c'], "cat f.c f.h > f.o && printf 'f.o: f.c f.h\\n' > f.d", 'f.d'), action('g.out', ['g.in'], 'cat g.in > g.out')];
    await pastSlack();
    const first = await buildOnce(root, actions);
    expect(first.ok).toBe(true);
    expect([...first.raced]).toEqual([]);
    const second = await buildOnce(root, actions);
    expect(second.ran).toEqual([]);
    expect(second.upToDate).toBe(2);
  });
});
