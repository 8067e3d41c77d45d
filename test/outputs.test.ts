import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, copyExample, hashTree, make, OUT, osvd, ranOf, removeCopies } from './helpers.js';

/**
 * Every file an action writes under the build folder is one of its outputs: recorded, restored and
 * explained with it, also when the recipe does not name it. The example tree has OSv's cases: a
 * generator that writes three files into a folder it names only as a folder (gen-syscalls), a kernel
 * link that also writes osv.syms, `lz` writing loader-stripped.elf.lz, mkbootfs writing bootfs.bin.d
 * after a `cd`, and compile-and-link recipes whose -MD depfiles are depfiles.
 */
const SYSCALLS_IN = 'syscalls/syscalls.cc.in';
const GEN = `${OUT}/gen/include/osv`;
const LINUX_O = `${OUT}/core/linux.o`;

afterAll(removeCopies);

function git(root: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Every file of the build folder but osvd's compile_commands.json. */
function outputs(root: string): Map<string, string> {
  return hashTree(path.join(root, OUT), (rel) => rel === 'compile_commands.json');
}

interface WhyJson {
  action: string;
  output: string;
  upToDate: boolean;
}

function why(root: string, p: string): WhyJson {
  const r = osvd(root, ['why', p, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as WhyJson;
}

describe('files an action writes without naming them', () => {
  let root: string;
  beforeAll(() => {
    root = copyExample();
    git(root, 'init', '-q');
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'first');
    const r = build(root);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
  });

  it('are known to why, as outputs of the action that wrote them', () => {
    for (const file of ['syscalls.cc', 'syscalls_config.h', 'syscall_tracepoints.cc']) {
      const w = why(root, `${GEN}/${file}`);
      expect(w.action).toBe('perhaps-modify-syscalls-h');
      expect(w.upToDate).toBe(true);
    }
    expect(why(root, `${OUT}/loader-stripped.elf.lz`).action).toBe(`${OUT}/loader-stripped.elf.lz.o`);
    expect(why(root, `${OUT}/bootfs.bin.d`).action).toBe(`${OUT}/bootfs.bin`);
    expect(why(root, `${OUT}/osv.syms`).action).toBe(`${OUT}/loader.elf`);
    expect(why(root, `${OUT}/libvdso.o`).action).toBe(`${OUT}/libvdso.so`);
  });

  it('a checkout round trip gives the outputs of a clean build, byte for byte', () => {
    const text = fs.readFileSync(path.join(root, SYSCALLS_IN), 'utf8');
    fs.writeFileSync(path.join(root, SYSCALLS_IN), `${text}SYSCALL1(close_range, int),\n`);
    git(root, 'commit', '-q', '-am', 'close_range');
    expect(build(root).ok).toBe(true);
    // Back to the first commit, build, and forward again: as `git checkout HEAD~1; build; git checkout -; build`.
    git(root, 'checkout', '-q', 'HEAD~1');
    const old = build(root);
    expect(old.ok, JSON.stringify(old.failed)).toBe(true);
    expect(fs.readFileSync(path.join(root, GEN, 'syscalls.cc'), 'utf8')).not.toContain('close_range');
    git(root, 'checkout', '-q', '-');
    const back = build(root);
    expect(back.ok, JSON.stringify(back.failed)).toBe(true);
    expect(fs.readFileSync(path.join(root, GEN, 'syscalls.cc'), 'utf8')).toContain('close_range');
    expect(fs.readFileSync(path.join(root, GEN, 'syscalls_config.h'), 'utf8')).toContain('CONF_syscall_close_range');
    expect(ranOf(back, 'compile')).toEqual([]);
    expect(back.restored.map((e) => e.output)).toContain(LINUX_O);
    expect(build(root).ran).toEqual([]);

    const ours = outputs(root);
    fs.rmSync(path.join(root, OUT), { recursive: true });
    const m = make(root, ['-j2', 'fs=zfs']);
    expect(m.code, m.stderr).toBe(0);
    const theirs = outputs(root);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect([...ours].filter(([f, h]) => theirs.get(f) !== h).map(([f]) => f)).toEqual([]);
  });
});

describe('compile-and-link recipes and generated headers', () => {
  let root: string;
  beforeAll(() => {
    root = copyExample();
    expect(build(root).ok).toBe(true);
  });

  it('rerun on none of the knobs they do not read, and read their -MD depfile', () => {
    const linked = [`${OUT}/libenviron.so`, `${OUT}/libvdso.so`, `${OUT}/fastlz/lz`];
    for (const sets of [['conf_drivers_profile=virtio-mmio'], ['conf_drivers_profile=base', 'fs=rofs'], []]) {
      const r = build(root, ...sets);
      expect(r.ok, JSON.stringify(r.failed)).toBe(true);
      expect(ranOf(r).filter((o) => linked.includes(o))).toEqual([]);
    }
    // string.h is in libenviron.d (gcc writes the depfile of a compile-and-link beside its output).
    expect(fs.readFileSync(path.join(root, OUT, 'libenviron.d'), 'utf8')).toContain('include/api/string.h');
    fs.appendFileSync(path.join(root, 'include/api/string.h'), '\n/* edited */\n');
    const r = build(root);
    expect(r.ran.find((e) => e.output === `${OUT}/libenviron.so`)?.reason).toBe('input modified: include/api/string.h');
  });

  it('version.h follows git describe: a new commit or tag regenerates it, and nothing else reruns', () => {
    git(root, 'init', '-q');
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'one');
    const version = (): string => fs.readFileSync(path.join(root, GEN, 'version.h'), 'utf8');
    const first = build(root);
    expect(first.ok).toBe(true);
    expect(version()).toContain(`"${git(root, 'describe', '--tags', '--always')}"`);
    expect(build(root).ran).toEqual([]);
    git(root, 'commit', '-q', '--allow-empty', '-m', 'two');
    const r = build(root);
    expect(version()).toContain(`"${git(root, 'describe', '--tags', '--always')}"`);
    expect(ranOf(r, 'compile')).toEqual([`${OUT}/core/version.o`]);
    expect(ranOf(r, 'generate')).toEqual([`${GEN}/version.h`]);
    git(root, 'tag', 'v1.0');
    expect(ranOf(build(root), 'compile')).toEqual([`${OUT}/core/version.o`]);
    expect(version()).toContain('"v1.0"');
    expect(build(root).ran).toEqual([]);
  });

  it("make's dry run prints its own messages, and they are no commands", () => {
    const dry = make(root, ['-n', 'fs=zfs', `${OUT}/vmlinuz.bin`, `${OUT}/libsolaris.so`]);
    expect(dry.stdout).toContain(`make: '${OUT}/libsolaris.so' is up to date.`);
    fs.rmSync(path.join(root, OUT, 'vmlinuz.bin'));
    const r = build(root, 'fs=zfs');
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.restored.map((e) => e.output)).toEqual([`${OUT}/vmlinuz.bin`]);
  });
});

describe('a generated header the Makefile names beside the depfile (OSv: ctype-data.h for runtime.o)', () => {
  it('the first knob change after a cold build compiles only what the knob changes; the header still counts', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    // Imported again, now with runtime.d: make's database names ctype-data.h through it too.
    const rofs = build(root, 'fs=rofs');
    expect(rofs.ok, JSON.stringify(rofs.failed)).toBe(true);
    expect(ranOf(rofs, 'compile')).toEqual([`${OUT}/bootfs.o`]);
    expect(ranOf(build(root, 'fs=rofs'))).toEqual([]);
    // A new table: runtime.o reads it (its trace checks the header the Makefile named).
    const gen = path.join(root, 'gen-ctype-data.cc');
    fs.writeFileSync(gen, fs.readFileSync(gen, 'utf8').replace('(std::isspace(c) ? 4 : 0)', '(std::isspace(c) ? 4 : 0) | (std::ispunct(c) ? 8 : 0)'));
    const table = build(root, 'fs=rofs');
    expect(ranOf(table, 'compile')).toEqual([`${OUT}/core/runtime.o`]);
    expect(table.ran.find((e) => e.output === `${OUT}/core/runtime.o`)?.reason).toBe(`input modified: ${OUT}/gen/include/ctype-data.h`);
    // Back to the cold build's knobs (its cached import, made before any depfile existed): nothing compiles.
    const back = build(root);
    expect(back.ok).toBe(true);
    expect(ranOf(back, 'compile')).toEqual([]);
  });
});

describe("make's `links` (ln -nsf release.x64 build/last): the link itself is the output", () => {
  it('an import made after a build, when build/last points at a folder, still names it: no rerun on a knob change', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    expect(fs.lstatSync(path.join(root, 'build/last')).isSymbolicLink()).toBe(true);
    // A new knob means a new import, made now that build/last exists and points at a folder.
    const rofs = build(root, 'fs=rofs');
    expect(rofs.ok, JSON.stringify(rofs.failed)).toBe(true);
    expect(ranOf(rofs, 'other')).not.toContain('build/last');
    expect(ranOf(build(root))).toEqual([]);
  });
});
