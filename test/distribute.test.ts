import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistccd, unusedPort, type Distccd } from '../bench/distccd.js';
import { copyExample, OUT, osvdEnv, ranOf, removeCopies, restoredOf, type BuildJson } from './helpers.js';

/**
 * Compiles through distcc, with a distccd of the test's own on loopback. The compiles' keys do not
 * see the launcher: a tree built remotely is up to date for a local build, and restores its objects
 * from the store. Hosts that fail fall back to local compiles, which distcc does and osvd reports.
 */

interface Distributed {
  tool: string;
  slots: number;
  hosts: string[];
  launched: number;
  remote: number;
  here: string[];
  fellBack: { source: string; host?: string; reason: string }[];
}

type Json = BuildJson & { distributed?: Distributed };

let distccd: Distccd;
const dirs: string[] = [];

beforeAll(async () => {
  distccd = await startDistccd(2);
});

afterAll(() => {
  distccd?.stop();
  removeCopies();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A DISTCC_DIR of its own per test: distcc keeps its host locks and back-off marks there. */
function distccDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-distcc-'));
  dirs.push(d);
  return d;
}

function configure(root: string, distribute: unknown, extra = ''): void {
  fs.writeFileSync(path.join(root, 'osv.config.ts'), `import { defineConfig } from 'osvd';\nexport default defineConfig({ distribute: ${JSON.stringify(distribute)}${extra} });\n`);
}

function buildJson(root: string, env: Record<string, string>): Json {
  const r = osvdEnv(root, ['build', '--json'], env);
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Json;
  } catch {
    throw new Error(`osvd build printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** Every object and depfile of the build folder, by path. */
function objects(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const dir = path.join(root, OUT);
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const rel = String(f);
    if (/\.[od]$/.test(rel)) out.set(rel, fs.readFileSync(path.join(dir, rel)));
  }
  return out;
}

/** The libraries bootfs.bin holds (mkbootfs copies them in whole), by name. */
function bootfsLibraries(root: string): Map<string, Buffer> {
  return new Map(['libsolaris.so', 'libenviron.so', 'libvdso.so'].map((f) => [f, fs.readFileSync(path.join(root, OUT, f))]));
}

/** An object without its debug sections: its code and data. */
function codeAndData(bytes: Buffer): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-strip-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'in.o'), bytes);
  const r = spawnSync('objcopy', ['--strip-debug', path.join(dir, 'in.o'), path.join(dir, 'out.o')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return fs.readFileSync(path.join(dir, 'out.o'));
}

const objectOf = (source: string): string => source.replace(/\.(c|cc|S)$/, '.o');

describe('distributed compiles (distcc, distccd on loopback)', () => {
  it('send the compiles to the hosts, links stay here, and the build says where each ran', async () => {
    const root = copyExample();
    const env = { DISTCC_DIR: distccDir() };
    configure(root, { tool: 'distcc', hosts: distccd.host(4) });
    const before = distccd.compilesOk();
    const r = buildJson(root, env);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    // Recorded: every depfile was where the compile's -o says (distcc preprocesses without -o).
    expect(r.raced).toEqual([]);
    expect(fs.readdirSync(root).filter((f) => f.endsWith('.d'))).toEqual([]);
    const compiles = ranOf(r, 'compile');
    const d = r.distributed!;
    expect(d).toMatchObject({ tool: 'distcc', slots: 4, hosts: [distccd.host(4)], launched: compiles.length, fellBack: [] });
    // What distccd says it compiled is what the build reports as remote; the rest distcc kept here.
    expect((await distccd.compilesOkReaching(before + d.remote)) - before).toBe(d.remote);
    expect(d.remote).toBeGreaterThan(0);
    expect(d.remote + d.here.length).toBe(compiles.length);
    expect(ranOf(r, 'link').length).toBeGreaterThan(0);
    // The launcher is not in the compiles' commands: compile_commands.json names the compiler.
    const commands = JSON.parse(fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8')) as { command: string }[];
    expect(commands.length).toBe(compiles.length);
    for (const c of commands) expect(c.command).toMatch(/^(gcc|g\+\+) /);
  });

  it('are the same entries as local compiles: nothing reruns without distcc, a clean tree restores them, code and data are identical', async () => {
    const root = copyExample();
    const env = { DISTCC_DIR: distccDir() };
    configure(root, { tool: 'distcc', hosts: distccd.host(4) });
    const before = distccd.compilesOk();
    const remote = buildJson(root, env);
    expect(remote.ok, JSON.stringify(remote.failed)).toBe(true);
    // distccd's log has every line of this build before a later test counts its own.
    expect((await distccd.compilesOkReaching(before + remote.distributed!.remote)) - before).toBe(remote.distributed!.remote);
    const remoteFiles = objects(root);
    const remoteLibraries = bootfsLibraries(root);
    const compiles = ranOf(remote, 'compile');

    configure(root, false);
    const again = buildJson(root, env);
    expect(again.ran, JSON.stringify(again.ran.slice(0, 3))).toEqual([]);
    expect(again.distributed).toBeUndefined();

    expect(osvdEnv(root, ['clean'], env).code).toBe(0);
    const restored = buildJson(root, env);
    expect(ranOf(restored, 'compile')).toEqual([]);
    expect(restoredOf(restored, 'compile')).toEqual(compiles);
    // The store's entries are the remote objects, byte for byte.
    const restoredFiles = objects(root);
    for (const o of compiles) expect(restoredFiles.get(o.slice(OUT.length + 1))!.equals(remoteFiles.get(o.slice(OUT.length + 1))!), o).toBe(true);

    // The same tree compiled here, at the same path (objects name their folder in the debug info).
    expect(osvdEnv(root, ['clean', '--all'], env).code).toBe(0);
    const local = buildJson(root, env);
    expect(ranOf(local, 'compile')).toEqual(compiles);
    const localFiles = objects(root);
    expect([...localFiles.keys()].sort()).toEqual([...remoteFiles.keys()].sort());
    const here = new Set(remote.distributed!.here.map((s) => objectOf(s)));
    // distcc takes no .S for a source: it assembles them here, and the report names them.
    expect([...here].sort()).toEqual(['arch/x64/entry.o', 'arch/x64/switch.o', 'bootfs.o']);
    // bootfs.o holds bootfs.bin (.incbin), which holds these libraries whole. libsolaris.so is linked
    // from objects a host compiled: the same code and data, but when its debug sections differ, so
    // does the data of what holds bootfs.bin (compared only when they do not). The other two are built here.
    const localLibraries = bootfsLibraries(root);
    for (const [lib, bytes] of localLibraries) {
      const other = remoteLibraries.get(lib)!;
      if (lib === 'libsolaris.so') expect(codeAndData(other).equals(codeAndData(bytes)), lib).toBe(true);
      else expect(other.equals(bytes), lib).toBe(true);
    }
    const embedsDiffer = !remoteLibraries.get('libsolaris.so')!.equals(localLibraries.get('libsolaris.so')!);
    // Objects that hold bootfs.bin: bootfs.o, and the compressed stripped kernel (bootfs included).
    const holdBootfs = new Set(['bootfs.o', 'loader-stripped.elf.lz.o']);
    for (const [rel, bytes] of localFiles) {
      const other = remoteFiles.get(rel)!;
      if (holdBootfs.has(rel) && embedsDiffer) continue;
      // Depfiles come from distcc's preprocessing, which runs here: identical.
      if (rel.endsWith('.d')) expect(other.equals(bytes), rel).toBe(true);
      // What distcc compiled here is byte-identical. What a host compiled was compiled from gcc's
      // preprocessed output: the same code and data, but the debug info's column numbers differ
      // (macros are expanded in that text), so only the debug sections are left out of the comparison.
      else if (here.has(rel)) expect(other.equals(bytes), rel).toBe(true);
      else expect(codeAndData(other).equals(codeAndData(bytes)), rel).toBe(true);
    }
  });

  it('fall back to local compiles when a host fails: the build succeeds, says so, and its objects are byte-identical to local ones', async () => {
    const root = copyExample();
    const env = { DISTCC_DIR: distccDir() };
    const local = buildJson(root, env);
    expect(local.ok, JSON.stringify(local.failed)).toBe(true);
    const localFiles = objects(root);
    expect(osvdEnv(root, ['clean', '--all'], env).code).toBe(0);

    const dead = `127.0.0.1:${await unusedPort()}/2`;
    configure(root, { tool: 'distcc', hosts: dead });
    const r = osvdEnv(root, ['build'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const compiles = ranOf(local, 'compile').length;
    const line = /^distcc: (\d+) compiles on 2 slots \((\S+)\): 0 remote, (?:(\d+) here \(localhost or not distributable\), )?(\d+) fell back here because a host failed$/m.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    const [, launched, host, here, fellBack] = line!;
    expect(host).toBe(dead);
    expect(Number(launched)).toBe(compiles);
    expect(Number(here ?? 0) + Number(fellBack)).toBe(compiles);
    expect(r.stdout).toMatch(new RegExp(`fell back: \\d+ \\(${dead.replace(/[./]/g, '\\$&')}: nonblocking connect to 127\\.0\\.0\\.1:\\d+ failed: Connection refused\\)`));
    // Said once, for the whole build: distcc's own warnings (one per compile) stay in its log.
    const said = r.stdout + r.stderr;
    expect(said).not.toMatch(/distcc\[\d+\]|Warning: failed to distribute/);
    expect(said.match(/^distcc: /gm)).toHaveLength(1);
    const fellBackLines = [...said.matchAll(/^ {2}fell back: (\d+) \((.*)\)$/gm)];
    expect(fellBackLines.reduce((n, m) => n + Number(m[1]), 0)).toBe(Number(fellBack));
    for (const [, , reason] of fellBackLines) expect(reason!.startsWith(`${dead}: nonblocking connect`) || reason!.startsWith('no host could take it: each was backing off'), reason).toBe(true);
    const after = objects(root);
    expect([...after.keys()].sort()).toEqual([...localFiles.keys()].sort());
    for (const [rel, bytes] of after) expect(bytes.equals(localFiles.get(rel)!), rel).toBe(true);
  });

  it('a bad host list is an error that names the file and the field', () => {
    const root = copyExample();
    configure(root, { tool: 'distcc', hosts: 'box/0' });
    const r = osvdEnv(root, ['build'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(root, 'osv.config.ts')}: distribute: 'distribute' hosts: bad host 'box/0': expected a limit /N with N above 0`);
  });
});

describe('compiler wrappers in makeVars', () => {
  /** A stand-in for ccache (not installed here): notes the wrappers' variables it sees, then runs the compiler. */
  function fakeCcache(): string {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-wrapper-'));
    dirs.push(bin);
    fs.writeFileSync(path.join(bin, 'ccache'), '#!/bin/sh\necho "$CCACHE_DIR $SCCACHE_DIR $ICECC_DEBUG ${UNRELATED_VAR-unset} $*" >> "$CCACHE_DIR/seen"\nexec "$@"\n', { mode: 0o755 });
    return bin;
  }

  function graphKinds(root: string, env: Record<string, string>): Record<string, number> {
    const r = osvdEnv(root, ['status', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { graph: { byKind: Record<string, number> } }).graph.byKind;
  }

  it("keep compiles compiles: status counts them, compile_commands.json names the compiler, CCACHE_ variables reach the wrapper and stay out of the key", () => {
    const plain = copyExample();
    const kinds = graphKinds(plain, {});
    const root = copyExample();
    const cacheDir = distccDir();
    // SCCACHE_ and ICECC_ variables reach wrappers too; another variable of osvd's environment does not.
    const env = { PATH: `${fakeCcache()}:${process.env.PATH}`, CCACHE_DIR: cacheDir, SCCACHE_DIR: '/sc', ICECC_DEBUG: 'debug', UNRELATED_VAR: 'x' };
    configure(root, false, `, makeVars: { CC: 'ccache gcc', CXX: 'ccache g++' }`);
    expect(graphKinds(root, env)).toEqual(kinds);
    const r = buildJson(root, env);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(ranOf(r, 'compile').length).toBe(kinds.compile);
    // Every compile ran through the wrapper (links through $(CC) too), which saw the variable.
    const seen = fs.readFileSync(path.join(cacheDir, 'seen'), 'utf8').split('\n').filter(Boolean);
    for (const line of seen) expect(line.startsWith(`${cacheDir} /sc debug unset `), line).toBe(true);
    for (const o of ranOf(r, 'compile')) expect(seen.filter((l) => l.includes(` -o ${o} `)).length, o).toBe(1);
    const commands = JSON.parse(fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8')) as { command: string }[];
    expect(commands.length).toBe(kinds.compile);
    for (const c of commands) expect(c.command).toMatch(/^(gcc|g\+\+) /);

    // Where ccache keeps its cache does not change what a compile writes: nothing reruns.
    const otherDir = distccDir();
    expect(buildJson(root, { ...env, CCACHE_DIR: otherDir }).ran).toEqual([]);
    // ccache's base_dir rewrites paths on the compiler's command line: the compiles are redone.
    const based = buildJson(root, { ...env, CCACHE_DIR: otherDir, CCACHE_BASEDIR: root });
    expect(ranOf(based, 'compile').length).toBe(kinds.compile);
  });

  it("a distcc the recipe runs itself writes its depfiles where the build reads them, and DISTCC_HOSTS reaches it", async () => {
    const root = copyExample();
    const env = { DISTCC_DIR: distccDir(), DISTCC_HOSTS: distccd.host(4) };
    // No `distribute` in the config: the DISTCC_HOSTS the user has is enough.
    configure(root, undefined, `, makeVars: { CC: 'distcc gcc', CXX: 'distcc g++' }`);
    const before = distccd.compilesOk();
    const r = buildJson(root, env);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.raced).toEqual([]);
    expect((await distccd.compilesOkReaching(before + r.distributed!.remote)) - before).toBe(r.distributed!.remote);
    expect(r.distributed!.remote).toBeGreaterThan(0);
    expect(buildJson(root, env).ran).toEqual([]);
  });
});
