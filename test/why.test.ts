import { describe, expect, it } from 'vitest';
import type { Action, FileHash } from '../graph/action.js';
import type { FileHasher, RunRecord } from '../graph/traces.js';
import { explain, type DirtyReason } from '../graph/why.js';

/** explain's input reasons, each path reported once, in the action's order, whatever the shape of the lists. */

function filesWith(hashes: Record<string, string>): FileHasher {
  const hash = (p: string): string | null => hashes[p] ?? null;
  return { hash, hashNow: hash, invalidate: () => undefined, describe: () => null, changedMs: () => null };
}

function action(inputs: string[], tracedInputs?: string[]): Action {
  return { id: 'out.o', kind: 'compile', commands: ['cc -c x.c'], cwd: '.', env: {}, keyEnv: {}, inputs, orderAfter: [], outputs: ['out.o'], ...(tracedInputs ? { tracedInputs } : {}) };
}

function run(inputs: FileHash[], deps: FileHash[] = []): RunRecord {
  return { actionId: 'out.o', key: 'k', preKey: 'p', commands: ['cc -c x.c'], keyEnv: {}, inputs, deps, outputs: [], context: {}, durationMs: 1, finishedAt: 0 };
}

function reasons(a: Action, last: RunRecord, now: Record<string, string>, pending: Record<string, string> = {}): string[] {
  const r = explain({ action: a, files: filesWith(now), lastRun: last, lastFailure: undefined, context: {}, pendingProducer: (p) => pending[p], producerOf: () => undefined });
  return r.map((x: DirtyReason) => (x.type === 'input' ? `${x.change} ${x.path}` : x.type === 'pendingInput' ? `pending ${x.path}` : x.type));
}

describe('why an action runs: its inputs', () => {
  // Declared out of order and with a repeat (a link's objects as the Makefile lists them); recorded sorted, as runs are.
  const declared = ['z.o', 'b.o', 'm.o', 'b.o', 'new.o'];
  const recorded: FileHash[] = [['b.o', 'hb'], ['gone.o', 'hg'], ['m.o', 'hm'], ['z.o', 'hz']];

  it('modified, added, removed, missing and appeared, each once, declared ones in the declared order', () => {
    const now = { 'z.o': 'hz2', 'b.o': 'hb', 'new.o': 'hn' };
    expect(reasons(action(declared), run(recorded), now)).toEqual(['modified z.o', 'missing m.o', 'added new.o', 'removed gone.o']);
    expect(reasons(action(['a.o']), run([['a.o', 'missing']]), { 'a.o': 'ha' })).toEqual(['appeared a.o']);
    expect(reasons(action(['b.o', 'm.o', 'z.o']), run(recorded.filter(([p]) => p !== 'gone.o')), { 'b.o': 'hb', 'm.o': 'hm', 'z.o': 'hz' })).toEqual([]);
  });

  it('a recorded list out of order (an older record) is read the same', () => {
    const now = { 'z.o': 'hz2', 'b.o': 'hb', 'new.o': 'hn' };
    expect(reasons(action(declared), run([...recorded].reverse()), now)).toEqual(['modified z.o', 'missing m.o', 'added new.o', 'removed gone.o']);
  });

  it('a dep that is also a declared input, or repeated, is checked once; a pending producer is named', () => {
    const deps: FileHash[] = [['z.o', 'hz'], ['h.h', 'hh'], ['h.h', 'hh'], ['gone.o', 'hg'], ['k.h', 'hk']];
    const now = { 'z.o': 'hz2', 'b.o': 'hb', 'm.o': 'hm', 'new.o': 'hn', 'h.h': 'hh2', 'k.h': 'hk' };
    expect(reasons(action(declared), run(recorded, deps), now, { 'new.o': 'gen' })).toEqual(['modified z.o', 'pending new.o', 'removed gone.o', 'modified h.h']);
  });

  it('a traced input: checked against the deps, or reported once more when it was a declared input before', () => {
    const now = { 'a.c': 'ha', 't.h': 'ht2', 'u.h': 'hu' };
    // t.h was a dep (changed), u.h a declared input of the last run (now traced: reported as removed only).
    const last = run([['a.c', 'ha'], ['u.h', 'hu']], [['t.h', 'ht']]);
    expect(reasons(action(['a.c'], ['t.h', 'u.h']), last, now)).toEqual(['removed u.h', 'modified t.h']);
  });
});
