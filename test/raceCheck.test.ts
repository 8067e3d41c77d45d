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

/**
 * A run whose inputs or discovered headers changed while it ran is not recorded (runAndRecord's race
 * check), with the real builder, shells, file state and database. The inputs are dated an hour back,
 * so that their stat alone vouches for them (no re-read because they were hashed just after a change):
 * what the check sees is what the commands did.
 */
const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function action(id: string, inputs: string[], command: string, depfile?: string): Action {
  return { id, kind: 'compile', commands: [command], cwd: '.', env: { PATH: process.env.PATH! }, keyEnv: {}, inputs, orderAfter: [], outputs: [id], ...(depfile ? { depfile } : {}) };
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
});
