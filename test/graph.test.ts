import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prng } from '../bench/prng.js';
import type { Action } from '../graph/action.js';
import { GraphError } from '../graph/errors.js';
import { BuildGraph } from '../graph/graph.js';
import { hashValue } from '../graph/hash.js';
import { absoluteIn, treePath } from '../graph/paths.js';
import { actionKey, preKeyOf } from '../graph/rebuilder.js';
import { contextChanges } from '../graph/why.js';
import { criticalPaths, ReadyQueue } from '../graph/scheduler.js';

function action(id: string, inputs: string[] = [], extra: Partial<Action> = {}): Action {
  return { id, kind: 'compile', commands: [`cc -o ${id}`], cwd: '.', env: {}, keyEnv: {}, inputs, orderAfter: [], outputs: [id], ...extra };
}

describe('build graph', () => {
  it('orders producers before consumers and adds edges from discovered dependencies', () => {
    const gen = action('gen.h', [], { kind: 'generate' });
    const obj = action('a.o', ['a.c']);
    const elf = action('k.elf', ['a.o'], { kind: 'link' });
    const g = new BuildGraph([elf, obj, gen], (id) => (id === 'a.o' ? ['gen.h', '/usr/include/x.h'] : []));
    const order = g.topologicalOrder();
    expect(order.indexOf('gen.h')).toBeLessThan(order.indexOf('a.o'));
    expect(order.indexOf('a.o')).toBeLessThan(order.indexOf('k.elf'));
    expect([...g.downstreamOf('gen.h')].sort()).toEqual(['a.o', 'k.elf']);
    // A build of targets: them and what they need, through discovered dependencies too, nothing downstream.
    expect([...g.withUpstream(['a.o'])].sort()).toEqual(['a.o', 'gen.h']);
    expect([...g.withUpstream(['gen.h'])]).toEqual(['gen.h']);
    expect([...g.withUpstream(['k.elf', 'a.o'])].sort()).toEqual(['a.o', 'gen.h', 'k.elf']);
    expect(() => g.withUpstream(['nope.o'])).toThrow(GraphError);
  });

  it('names a dependency cycle and a file written by two actions', () => {
    expect(() => new BuildGraph([action('a', ['b']), action('b', ['a'])])).toThrow(/dependency cycle: (a -> b -> a|b -> a -> b)/);
    expect(() => new BuildGraph([action('x', [], { outputs: ['f'] }), action('y', [], { outputs: ['f'] })])).toThrow(GraphError);
  });

  it('learned outputs of an open action are its outputs, order their readers, and never take a declared output or make a cycle', () => {
    const gen = action('gen', [], { kind: 'generate', outputs: ['gen/'], outputsOpen: true });
    const reader = action('r.o', ['gen/b.h']);
    const upstream = action('u.o', ['gen/c.h']);
    const first = action('first', ['u.o'], { kind: 'generate', outputs: ['first.h'] });
    const learned = new BuildGraph([reader, gen, upstream, { ...first, inputs: [] }, { ...gen, id: 'gen2', outputs: ['x'], inputs: ['u.o'] }], () => [], (id) => (id === 'gen' ? ['gen/a.h', 'gen/b.h', 'first.h'] : id === 'gen2' ? ['gen/c.h'] : []));
    expect(learned.producerOf('gen/a.h')?.id).toBe('gen');
    expect(learned.producerOf('first.h')?.id).toBe('first');
    expect(learned.learnedOutputsOf('gen')).toEqual(['gen/a.h', 'gen/b.h']);
    expect(learned.predecessors('r.o')).toEqual(['gen']);
    // gen2 runs after u.o, so u.o reading what gen2 wrote last time is no edge.
    expect(learned.predecessors('u.o')).toEqual([]);
    expect(new BuildGraph([{ ...gen, outputsOpen: false }, reader], () => [], () => ['gen/b.h']).producerOf('gen/b.h')).toBeUndefined();
  });

  it('a stale depfile naming a downstream output does not create a cycle', () => {
    const g = new BuildGraph([action('a.o', ['a.c']), action('k.elf', ['a.o'], { kind: 'link' })], (id) => (id === 'a.o' ? ['k.elf'] : []));
    expect(g.topologicalOrder()).toEqual(['a.o', 'k.elf']);
  });
});

describe('keys', () => {
  it('change with the command, the environment the action reads and input contents, not with input order', () => {
    const a = action('a.o', ['a.c', 'b.h']);
    const base = preKeyOf(a, [['a.c', '1'], ['b.h', '2']]);
    expect(preKeyOf({ ...a, inputs: ['b.h', 'a.c'] }, [['a.c', '1'], ['b.h', '2']])).toBe(base);
    expect(preKeyOf(a, [['a.c', '1'], ['b.h', '3']])).not.toBe(base);
    expect(preKeyOf({ ...a, commands: ['cc -O2 -o a.o'] }, [['a.c', '1'], ['b.h', '2']])).not.toBe(base);
    expect(preKeyOf({ ...a, keyEnv: { conf_x: '1' } }, [['a.c', '1'], ['b.h', '2']])).not.toBe(base);
    expect(preKeyOf({ ...a, env: { PATH: '/elsewhere' } }, [['a.c', '1'], ['b.h', '2']])).toBe(base);
    expect(actionKey(base, [['x.h', '1']])).not.toBe(actionKey(base, [['x.h', '2']]));
  });

  it('are the same bytes from one osvd version to the next (a changed encoding would rebuild every tree once)', () => {
    // Values computed by the encoding as it was first written, one hash update per part.
    const value = ['osvd-key-1', ['cc -c a.c'], '.', { B: 'x', A: null }, [['a.c', '0123'], ['é.h', 'ff']], 3, true];
    expect(hashValue(value)).toBe('c521a1eee0b502d767a363cb325df68b8fb83b99');
    expect(hashValue(['ab', 'c'])).toBe('1295b9b3b3c1cb21b4d36a98f13b73378e78fd59');
    expect(hashValue(['a', 'bc'])).toBe('214cdc270a1a3544586806010758e88dd4f15d6a');
  });

  it('reports which context values (knobs) changed', () => {
    expect(contextChanges({ p: 'all', h: '0' }, { p: 'virtio-mmio', h: '0' })).toEqual([{ name: 'p', from: 'all', to: 'virtio-mmio' }]);
  });
});

describe('scheduler', () => {
  it('gives the longest remaining path the highest priority', () => {
    const slow = action('slow.o', ['s.c']);
    const fast = action('fast.o', ['f.c']);
    const lib = action('lib.so', ['fast.o'], { kind: 'link' });
    const g = new BuildGraph([fast, slow, lib]);
    const cp = criticalPaths(g, (id) => ({ 'slow.o': 5000, 'fast.o': 100, 'lib.so': 200 })[id]);
    expect(cp.get('slow.o')).toBe(5000);
    expect(cp.get('fast.o')).toBe(300);
    const q = new ReadyQueue();
    for (const id of ['fast.o', 'slow.o']) q.push(id, cp.get(id)!);
    expect([q.pop(), q.pop(), q.pop()]).toEqual(['slow.o', 'fast.o', undefined]);
  });
});

describe('executor', () => {
  it('runs lines in order in the action folder, like make: stops at the first failure and names it', async () => {
    const { ShellPool, isSimpleCommand } = await import('../graph/executor.js');
    expect(isSimpleCommand('g++ -DX=1 -c -o a.o a.cc')).toBe(true);
    expect(isSimpleCommand('FOO=1 make')).toBe(false);
    expect(isSimpleCommand('cd sub')).toBe(false);
    expect(isSimpleCommand('cat a | sort > b')).toBe(false);
    const os = await import('node:os');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-exec-'));
    fs.mkdirSync(path.join(root, 'sub'));
    const pool = new ShellPool();
    try {
      const ok = await pool.run(action('x', [], { cwd: 'sub', env: { PATH: process.env.PATH!, GREETING: 'hi' }, commands: ['cd ..', 'pwd', 'echo "$GREETING" > out.txt'] }), root);
      expect(ok.ok).toBe(true);
      // Each line in its own shell: the `cd ..` does not carry over.
      expect(ok.output.trim()).toBe(path.join(root, 'sub'));
      expect(fs.readFileSync(path.join(root, 'sub/out.txt'), 'utf8')).toBe('hi\n');
      const bad = await pool.run(action('y', [], { env: { PATH: process.env.PATH! }, commands: ['true', 'echo oops >&2; exit 3', 'touch never'] }), root);
      expect(bad).toMatchObject({ ok: false, exitCode: 3, failedCommand: 'echo oops >&2; exit 3' });
      expect(bad.output).toContain('oops');
      expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
      const missing = await pool.run(action('z', [], { env: { PATH: '/nonexistent' }, commands: ['no-such-compiler -c a.c'] }), root);
      expect(missing.exitCode).toBe(127);
      // Leading `mkdir -p` lines are done without a process (PATH has no mkdir here), as make's would be.
      const noPath = { env: { PATH: '/nonexistent' } };
      const made = await pool.run(action('m', [], { ...noPath, cwd: 'sub', commands: ['mkdir -p out/a/ out/b', 'mkdir -p out/c', 'echo made > out/a/f'] }), root);
      expect(made).toMatchObject({ ok: true, exitCode: 0 });
      expect(fs.readdirSync(path.join(root, 'sub/out')).sort()).toEqual(['a', 'b', 'c']);
      expect(fs.readFileSync(path.join(root, 'sub/out/a/f'), 'utf8')).toBe('made\n');
      fs.writeFileSync(path.join(root, 'file'), '');
      const blocked = await pool.run(action('n', [], { ...noPath, commands: ['mkdir -p file/x', 'touch never2'] }), root);
      expect(blocked).toMatchObject({ ok: false, exitCode: 1, failedCommand: 'mkdir -p file/x' });
      expect(blocked.output).toBe("mkdir: cannot create directory 'file/x': ENOTDIR");
      expect(fs.existsSync(path.join(root, 'never2'))).toBe(false);
      // Not at the start, or with other options: the shell runs it (and here finds no mkdir).
      const late = await pool.run(action('o', [], { ...noPath, commands: ['true', 'mkdir -p late'] }), root);
      expect(late).toMatchObject({ ok: false, exitCode: 127, failedCommand: 'mkdir -p late' });
      const mode = await pool.run(action('p', [], { ...noPath, commands: ['mkdir -p -m 700 moded'] }), root);
      expect(mode).toMatchObject({ ok: false, exitCode: 127 });
    } finally {
      pool.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * Records `act` as up to date in `runs`: run with its inputs and these headers as `hashes` has them now,
 * its output's hash `out-<id>` (set in `hashes` too).
 */
function recorder(hashes: Map<string, string>, runs: Map<string, import('../graph/traces.js').RunRecord>): (act: Action, deps: string[]) => void {
  return (act, deps) => {
    const inputs = act.inputs.map((p) => [p, hashes.get(p)!] as const);
    const depHashes = deps.map((p) => [p, hashes.get(p)!] as const);
    const preKey = preKeyOf(act, inputs);
    hashes.set(act.outputs[0]!, `out-${act.id}`);
    runs.set(act.id, { actionId: act.id, key: actionKey(preKey, depHashes), preKey, commands: act.commands, keyEnv: {}, inputs, deps: depHashes, outputs: [{ path: act.outputs[0]!, hash: `out-${act.id}`, mode: 0o644, size: 1 }], context: {}, durationMs: 1, finishedAt: 0 });
  };
}

describe('live plan', () => {
  it('re-decides exactly the readers of a changed file, as they were at the last index: one reader, several, then one again', async () => {
    const { LivePlan } = await import('../graph/plan.js');
    const hashes = new Map<string, string>([['a.c', '1'], ['b.c', '1'], ['x.h', '1'], ['y.h', '1']]);
    const runs = new Map<string, import('../graph/traces.js').RunRecord>();
    const files = { hash: (p: string) => hashes.get(p) ?? null, hashNow: (p: string) => hashes.get(p) ?? null, invalidate: () => undefined, describe: (p: string) => (hashes.has(p) ? { path: p, hash: hashes.get(p)!, mode: 0o644, size: 1 } : null), changedMs: () => 0 };
    const traces = {
      lastRun: (id: string) => runs.get(id),
      findMatch: () => undefined,
      previousRun: () => undefined,
      recordRun: () => undefined,
      adoptRun: () => undefined,
      recordFailure: () => undefined,
      lastFailure: () => undefined,
    };
    const store = { has: () => false, save: () => undefined, restore: () => false };
    const a = action('a.o', ['a.c']);
    const b = action('b.o', ['b.c']);
    const g = new BuildGraph([a, b]);
    // Each up to date, with the headers its last depfile named.
    const record = recorder(hashes, runs);
    record(a, ['x.h']);
    record(b, ['y.h']);
    const plan = new LivePlan(g, { files, traces, store }, {});
    expect(plan.counts.upToDate).toBe(2);
    // x.h has one reader: only a.o is looked at, and it is dirty (its recorded header changed).
    hashes.set('x.h', '2');
    expect(plan.update(['x.h'])).toBe(1);
    expect(plan.entries.get('a.o')!.state).toBe('run');
    expect(plan.entries.get('b.o')!.state).toBe('upToDate');
    // b.o now includes x.h too: after its refresh, x.h has two readers.
    record(b, ['x.h', 'y.h']);
    plan.refresh(['b.o']);
    expect(plan.update(['x.h'])).toBe(2);
    // a.o no longer includes x.h: one reader again (b.o), and y.h still has b.o.
    record(a, []);
    plan.refresh(['a.o']);
    expect(plan.update(['x.h'])).toBe(1);
    expect(plan.update(['y.h'])).toBe(1);
    expect(plan.update(['z.h'])).toBe(0);
    expect(plan.watches('a.c') && plan.watches('x.h') && !plan.watches('z.h')).toBe(true);
  });

  it('re-decides the readers of what changed, transitively, and not the actions only ordered after it', async () => {
    const { LivePlan } = await import('../graph/plan.js');
    const hashes = new Map<string, string>([['a.c', '1'], ['b.c', '1'], ['gen.h', '1'], ['a.o', '1'], ['b.o', '1'], ['k.elf', '1']]);
    const runs = new Map<string, import('../graph/traces.js').RunRecord>();
    const files = { hash: (p: string) => hashes.get(p) ?? null, hashNow: (p: string) => hashes.get(p) ?? null, invalidate: () => undefined, describe: () => null, changedMs: () => 0 };
    const traces = { lastRun: (id: string) => runs.get(id), findMatch: () => undefined, previousRun: () => undefined, recordRun: () => undefined, adoptRun: () => undefined, recordFailure: () => undefined, lastFailure: () => undefined };
    const store = { has: () => false, save: () => undefined, restore: () => false };
    // Both compiles wait for the generator (as OSv's wait for drivers_config.h); only a.o includes its header.
    const gen = action('gen.h', [], { kind: 'generate' });
    const a = action('a.o', ['a.c'], { orderAfter: ['gen.h'] });
    const b = action('b.o', ['b.c'], { orderAfter: ['gen.h'] });
    const elf = action('k.elf', ['a.o', 'b.o'], { kind: 'link' });
    const record = (act: Action, deps: string[]): void => {
      const inputs = act.inputs.map((p) => [p, hashes.get(p)!] as const);
      const depHashes = deps.map((p) => [p, hashes.get(p)!] as const);
      const preKey = preKeyOf(act, inputs);
      runs.set(act.id, { actionId: act.id, key: actionKey(preKey, depHashes), preKey, commands: act.commands, keyEnv: {}, inputs, deps: depHashes, outputs: [{ path: act.outputs[0]!, hash: hashes.get(act.outputs[0]!)!, mode: 0o644, size: 1 }], context: {}, durationMs: 1, finishedAt: 0 });
    };
    for (const [act, deps] of [[gen, []], [a, ['gen.h']], [b, []], [elf, []]] as const) record(act, [...deps]);
    const plan = new LivePlan(new BuildGraph([gen, a, b, elf]), { files, traces, store }, {});
    expect(plan.counts.upToDate).toBe(4);
    // The header changed behind the generator's back: the generator, its reader and the link.
    hashes.set('gen.h', '2');
    expect(plan.update(['gen.h'])).toBe(3);
    expect([...plan.dirtyActions()].sort()).toEqual(['a.o', 'gen.h', 'k.elf']);
    expect(plan.entries.get('b.o')!.state).toBe('upToDate');
    // Rebuilt (the generator wrote the old content back): the same three looked at again, all up to date.
    hashes.set('gen.h', '1');
    expect(plan.refresh(['gen.h', 'a.o', 'k.elf'])).toBe(3);
    expect(plan.counts.upToDate).toBe(4);
  });

  it('keeps the readers of a header many compiles read as bits, and finds each of them as their depfiles change', async () => {
    const { LivePlan } = await import('../graph/plan.js');
    const hashes = new Map<string, string>([['common.h', '1'], ['other.h', '1']]);
    const runs = new Map<string, import('../graph/traces.js').RunRecord>();
    const files = { hash: (p: string) => hashes.get(p) ?? null, hashNow: (p: string) => hashes.get(p) ?? null, invalidate: () => undefined, describe: () => null, changedMs: () => 0 };
    const traces = { lastRun: (id: string) => runs.get(id), findMatch: () => undefined, previousRun: () => undefined, recordRun: () => undefined, adoptRun: () => undefined, recordFailure: () => undefined, lastFailure: () => undefined };
    const store = { has: () => false, save: () => undefined, restore: () => false };
    // 70 compiles (more than the 16 a list holds, and across the bits' 32-bit words), all reading common.h.
    const compiles = Array.from({ length: 70 }, (_, i) => action(`t${i}.o`, [`t${i}.c`]));
    for (let i = 0; i < 70; i++) hashes.set(`t${i}.c`, '1');
    const record = recorder(hashes, runs);
    for (const c of compiles) record(c, ['common.h']);
    const plan = new LivePlan(new BuildGraph(compiles), { files, traces, store }, {});
    expect(plan.update(['common.h'])).toBe(70);
    // Every compile but the 32nd and the last drops common.h: its readers go from bits to two, then one.
    const kept = new Set(['t31.o', 't69.o']);
    for (const c of compiles) if (!kept.has(c.id)) record(c, ['other.h']);
    plan.refresh(compiles.filter((c) => !kept.has(c.id)).map((c) => c.id));
    hashes.set('common.h', '2');
    expect(plan.update(['common.h'])).toBe(2);
    expect([...plan.dirtyActions()].sort()).toEqual(['t31.o', 't69.o']);
    expect(plan.update(['other.h'])).toBe(68);
    record(compiles[31]!, ['other.h']);
    plan.refresh(['t31.o']);
    expect(plan.update(['common.h'])).toBe(1);
    expect(plan.update(['other.h'])).toBe(69);
  });
});

describe('tree paths', () => {
  /** treePath as it was before its fast paths: path.resolve and path.relative every time. */
  const reference = (root: string, cwd: string, p: string): string => {
    const abs = path.resolve(root, cwd, p);
    const rel = path.relative(root, abs);
    if (rel === '') return '.';
    if (rel.startsWith('..') || path.isAbsolute(rel)) return abs;
    return rel;
  };

  it('are what path.resolve and path.relative make of them, for clean and unclean paths alike', () => {
    const parts = ['a', 'b', '.', '..', '', 'src', 'x.h', 'ab'];
    const random = prng(7);
    const pick = (): string => parts[Math.floor(random() * parts.length)]!;
    const made = (n: number): string => Array.from({ length: n }, pick).join('/');
    const roots = ['/t/a', '/t/a/', '/t', '/', '/t/./a', '/t/ab'];
    let checked = 0;
    for (let i = 0; i < 4000; i++) {
      const root = roots[i % roots.length]!;
      const cwd = i % 3 === 0 ? made(1 + (i % 2)) : '.';
      const rel = made(1 + Math.floor(random() * 4)) || 'a';
      for (const p of [rel, `/${rel}`, `${root}/${rel}`, `/t/a${rel}`]) {
        expect(treePath(root, cwd, p), `treePath(${root}, ${cwd}, ${p})`).toBe(reference(root, cwd, p));
        expect(absoluteIn(root, p), `absoluteIn(${root}, ${p})`).toBe(path.resolve(root, p));
        checked++;
      }
    }
    expect(checked).toBe(16000);
  });
});
