import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendTo,
  build,
  compiledOrKept,
  copyExample,
  depfileReaders,
  driversConfigIncluders,
  hashTree,
  kernelObjects,
  make,
  OUT,
  osvd,
  ranOf,
  removeCopies,
  restoredOf,
  sha,
} from './helpers.js';

/**
 * The engine on a fresh copy of examples/mini-osv, with the real make and g++: each test states the
 * exact set of actions that must run, computed independently (from make's own dry run, the sources
 * and the depfiles), not "fewer than".
 */
const GENERATOR = `${OUT}/gen/include/osv/drivers_config.h`;
const KERNEL = `${OUT}/loader.elf`;
/** A new kernel reruns its link chain: the links, and strip, lz and dd ('other'), and make's bootfs_manifest.last check. */
const CHAIN_LINKS = [KERNEL, `${OUT}/lzloader.elf`].sort();
const CHAIN_OTHER = [`${OUT}/loader-stripped.elf`, `${OUT}/loader-stripped.elf.lz.o`, `${OUT}/vmlinuz.bin`];
const MANIFEST_CHECK = `${OUT}/bootfs_manifest.last`;

afterAll(removeCopies);

describe('cold build', () => {
  it('produces the same outputs as make, byte for byte, in the same folder', () => {
    const root = copyExample();
    const first = build(root);
    expect(first.ok).toBe(true);
    expect(first.failed).toEqual([]);
    const objects = kernelObjects(root, []);
    expect(ranOf(first, 'compile')).toEqual(expect.arrayContaining(objects));
    expect(ranOf(first, 'link')).toEqual(expect.arrayContaining([KERNEL, `${OUT}/libsolaris.so`]));
    // osvd's own files: its state, and compile_commands.json (make writes none).
    const skip = (rel: string): boolean => rel === '.osvd' || rel.startsWith('.osvd/') || rel === 'compile_commands.json';
    const ours = hashTree(path.join(root, OUT), skip);
    expect(ours.size).toBeGreaterThan(objects.length);
    expect(fs.existsSync(path.join(root, OUT, 'compile_commands.json'))).toBe(true);

    fs.rmSync(path.join(root, OUT), { recursive: true });
    // fs=zfs, as OSv's scripts/build passes it (and osvd defaults to): the bootfs manifest names libsolaris.so.
    const m = make(root, ['-j2', 'fs=zfs']);
    expect(m.code, m.stderr).toBe(0);
    const theirs = hashTree(path.join(root, OUT), skip);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    const different = [...ours].filter(([f, h]) => theirs.get(f) !== h).map(([f]) => f);
    expect(different).toEqual([]);
  });
});

describe('incremental builds on one tree', () => {
  let root: string;
  let allObjects: string[];
  beforeAll(() => {
    root = copyExample();
    const r = build(root);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    allObjects = kernelObjects(root, []);
  });

  it('runs nothing on a second build', () => {
    const r = build(root);
    expect(r.ran).toEqual([]);
    expect(r.restored).toEqual([]);
    expect(r.upToDate).toBeGreaterThan(allObjects.length);
  });

  it('profile all -> virtio-mmio runs the generator, the includers, new objects and the link', () => {
    const mmioObjects = kernelObjects(root, ['conf_drivers_profile=virtio-mmio']);
    const includers = driversConfigIncluders(root).filter((o) => mmioObjects.includes(o));
    const neverBuilt = mmioObjects.filter((o) => !allObjects.includes(o));
    const r = build(root, 'conf_drivers_profile=virtio-mmio');
    expect(r.ok).toBe(true);
    expect(ranOf(r, 'generate')).toEqual([GENERATOR]);
    expect(compiledOrKept(r)).toEqual([...new Set([...includers, ...neverBuilt])].sort());
    expect(ranOf(r, 'link')).toEqual(CHAIN_LINKS);
    expect(ranOf(r, 'other')).toEqual([...CHAIN_OTHER, MANIFEST_CHECK].sort());
    expect(r.restored).toEqual([]);
    // Dropped driver objects leave the link.
    const dropped = allObjects.filter((o) => !mmioObjects.includes(o));
    expect(dropped.length).toBeGreaterThan(0);
    const link = r.ran.find((e) => e.output === KERNEL)!;
    const command = link.reasons.find((x) => x.type === 'command')!;
    expect(command.removed).toEqual(expect.arrayContaining(dropped));
    expect(command.context).toContainEqual(expect.objectContaining({ name: 'conf_drivers_profile' }));
  });

  it('explains, for an includer dirtied by a profile switch, the knob, the header and the TU', () => {
    const includer = driversConfigIncluders(root)[0]!;
    const w = osvd(root, ['why', includer, '--json', '--set', 'conf_drivers_profile=all']);
    expect(w.code, w.stderr).toBe(0);
    const why = JSON.parse(w.stdout) as {
      upToDate: boolean;
      source: string;
      reasons: { type: string; path?: string }[];
      upstream: { reasons: { type: string; context?: { name: string; from: string; to: string }[] }[] }[];
    };
    expect(why.upToDate).toBe(false);
    expect(why.source).toBe(includer.slice(OUT.length + 1).replace(/\.o$/, why.source.slice(why.source.lastIndexOf('.'))));
    expect(why.reasons).toContainEqual(expect.objectContaining({ type: 'pendingInput', path: GENERATOR }));
    const knob = why.upstream[0]!.reasons.flatMap((r) => r.context ?? []);
    expect(knob).toContainEqual({ name: 'conf_drivers_profile', from: 'virtio-mmio', to: 'all' });
    const text = osvd(root, ['why', includer, '--set', 'conf_drivers_profile=all']).stdout;
    expect(text).toContain('conf_drivers_profile virtio-mmio -> all');
    expect(text).toContain('drivers_config.h');
    // Under the knobs it was last built with it is up to date, and says what changed since the run before.
    const now = JSON.parse(osvd(root, ['why', includer, '--json', '--set', 'conf_drivers_profile=virtio-mmio']).stdout) as {
      upToDate: boolean;
      lastRun: { changedSincePrevious: { type: string; path?: string }[] };
    };
    expect(now.upToDate).toBe(true);
    expect(now.lastRun.changedSincePrevious).toContainEqual(expect.objectContaining({ type: 'input', path: GENERATOR }));
  });

  it('back to all compiles and links nothing: everything comes from the store', () => {
    const r = build(root, 'conf_drivers_profile=all');
    expect(r.ok).toBe(true);
    expect(ranOf(r, 'compile')).toEqual([]);
    expect(ranOf(r, 'link')).toEqual([]);
    expect(restoredOf(r)).toEqual(expect.arrayContaining([GENERATOR, KERNEL]));
    expect(build(root).ran).toEqual([]);
  });

  it('conf_hide_symbols 0 -> 1 recompiles every TU and relinks; 1 -> 0 compiles nothing', () => {
    const everyTu = build(root).upToDate;
    const hidden = kernelObjects(root, ['conf_hide_symbols=1']);
    const on = build(root, 'conf_hide_symbols=1');
    expect(on.ok).toBe(true);
    expect(ranOf(on, 'compile')).toEqual(expect.arrayContaining(hidden));
    expect(on.restored.filter((e) => e.kind === 'compile')).toEqual([]);
    expect(everyTu).toBeGreaterThan(hidden.length);
    const linkedHidden = on.ran.find((e) => e.output === KERNEL)!;
    const added = linkedHidden.reasons.find((x) => x.type === 'command')!.added!;
    expect(added).toEqual(expect.arrayContaining(['--gc-sections', `--version-script=${OUT}/version_script`]));
    const off = build(root, 'conf_hide_symbols=0');
    expect(off.ok).toBe(true);
    expect(ranOf(off, 'compile')).toEqual([]);
    expect(ranOf(off, 'link')).toEqual([]);
  });

  it('where make misses the hide-symbols flip entirely (it compiles nothing), osvd does not', () => {
    const other = copyExample();
    expect(make(other, ['-j2', 'fs=zfs']).code).toBe(0);
    const flipped = make(other, ['V=1', 'fs=zfs', 'conf_hide_symbols=1']);
    expect(flipped.code).toBe(0);
    expect(flipped.stdout).not.toMatch(/ -c /);
  });

  it('an edit that leaves the object identical does not relink', () => {
    const tu = 'core/sched.cc';
    appendTo(root, tu, '\n// a comment at the end changes no code\n');
    const r = build(root);
    expect(ranOf(r)).toEqual([`${OUT}/core/sched.o`]);
  });

  it('a header edit recompiles exactly the TUs whose depfiles named it', () => {
    const header = 'include/osv/debug.hh';
    const readers = depfileReaders(root, header);
    expect(readers.length).toBeGreaterThan(1);
    const before = new Map(readers.map((o) => [o, sha(path.join(root, o))]));
    appendTo(root, header, '\n#define OSVD_TEST_MARKER 1\n');
    const r = build(root);
    expect(compiledOrKept(r)).toEqual(readers);
    const changed = readers.some((o) => sha(path.join(root, o)) !== before.get(o));
    expect(ranOf(r, 'link')).toEqual(changed ? CHAIN_LINKS : []);
  });

  it('touch without a content change runs nothing', () => {
    const now = new Date();
    fs.utimesSync(path.join(root, 'core/sched.cc'), now, now);
    fs.utimesSync(path.join(root, 'include/osv/types.h'), now, now);
    expect(build(root).ran).toEqual([]);
  });

  it('a compile error fails with the TU and the message; the fix reruns that TU and the link only', () => {
    const tu = 'core/mutex.cc';
    const original = fs.readFileSync(path.join(root, tu), 'utf8');
    fs.writeFileSync(path.join(root, tu), `${original}\nint osvd_broken = ;\n`);
    const bad = build(root);
    expect(bad.ok).toBe(false);
    expect(bad.code).toBe(1);
    expect(bad.failed).toHaveLength(1);
    expect(bad.failed[0]).toMatchObject({ output: `${OUT}/core/mutex.o`, source: tu });
    expect(bad.failed[0]!.message).toMatch(/mutex\.cc.*error/);
    expect(bad.skipped).toContain(KERNEL);
    expect(fs.existsSync(path.join(root, OUT, 'core/mutex.o'))).toBe(false);
    fs.writeFileSync(path.join(root, tu), `${original}\nint osvd_fixed = 42;\n`);
    const fixed = build(root);
    expect(fixed.ok).toBe(true);
    expect(ranOf(fixed)).toEqual([`${OUT}/core/mutex.o`, ...CHAIN_LINKS, ...CHAIN_OTHER].sort());
  });
});
