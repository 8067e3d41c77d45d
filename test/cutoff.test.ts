import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../graph/action.js';
import { preprocessCommand } from '../graph/preprocessCutoff.js';
import { preKeyOf } from '../graph/rebuilder.js';
import { readCompileLine } from '../osv/compileCommand.js';
import { mapRootAway } from '../osv/pathMap.js';
import { build, copyExample, depfileReaders, driversConfigIncluders, make, osvd, osvdEnv, OUT, ranOf, removeCopies, spawnOsvd, startDaemon, status, stopDaemons, waitFor, type BuildJson } from './helpers.js';

/**
 * Early cutoff on preprocessed output, and the compiler's identity in the key, on the example tree with
 * the real g++. Which TUs' preprocessed output changes is found here by preprocessing them, as a user
 * would check it by hand: never from osvd's own answer.
 */

function cutoffOf(r: BuildJson): string[] {
  return r.cutoff.map((e) => e.output).sort();
}

/** osv.config.ts for the copy: preprocessing always tried (the automatic choice depends on timings), and make variables. */
function writeConfig(root: string, makeVars: Record<string, string> = {}): void {
  fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default ${JSON.stringify({ preprocess: 'always', makeVars })};\n`);
}

interface CompileEntry {
  readonly output: string;
  readonly file: string;
  readonly command: string;
  readonly directory: string;
}

/** The compile commands of the last build (osvd writes them for clangd). */
function compileEntries(root: string): CompileEntry[] {
  return JSON.parse(fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8')) as CompileEntry[];
}

/** Each object's TU preprocessed with its own command (-E instead of -c, no object, no depfile), hashed. */
function preprocessedHashes(root: string, objects: readonly string[]): Map<string, string> {
  const wanted = new Set(objects);
  const out = new Map<string, string>();
  for (const e of compileEntries(root)) {
    if (!wanted.has(e.output)) continue;
    const words = e.command.split(/\s+/).filter(Boolean);
    const kept: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '-o' || w === '-MF' || w === '-MT' || w === '-MQ') i++;
      else if (!['-c', '-MD', '-MMD', '-MP'].includes(w)) kept.push(w);
    }
    const r = spawnSync(kept[0]!, [...kept.slice(1), '-E'], { cwd: e.directory, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`preprocessing ${e.file} failed: ${r.stderr}`);
    out.set(e.output, crypto.createHash('sha256').update(r.stdout).digest('hex'));
  }
  return out;
}

/**
 * The targets whose recipes run `program`, from make's own dry run of every target (`--trace` names the
 * target before its commands).
 */
function targetsRunning(root: string, program: string): string[] {
  const r = make(root, ['-n', '-B', '--trace', 'V=1', 'fs=zfs', `CXX=${program}`]);
  if (r.code !== 0) throw new Error(`make -n failed: ${r.stderr}`);
  const targets = new Set<string>();
  let target: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const update = /^[^\s:]+:\d+: update target '([^']+)'/.exec(line);
    if (update) target = update[1];
    else if (target !== undefined && line.trim().startsWith(`${program} `)) targets.add(target);
  }
  return [...targets].sort();
}

function changedBetween(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()].filter((o) => before.has(o) && before.get(o) !== after.get(o)).sort();
}

function replaceIn(root: string, rel: string, from: string, to: string): void {
  const file = path.join(root, rel);
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${rel} does not contain ${from}`);
  fs.writeFileSync(file, text.replace(from, to));
}

afterAll(() => {
  stopDaemons();
  removeCopies();
});

describe('reading a compile line', () => {
  const line = `g++ -std=gnu++17 -MD -MT build/x/a.o -MP -O2 -g -D'NAME=a b' -c -o build/x/a.o a.cc`;
  const compile = (commands: string[], extra: Partial<Action> = {}): Action => ({
    id: 'build/x/a.o', kind: 'compile', commands, cwd: '.', env: {}, keyEnv: {}, inputs: [], orderAfter: [], outputs: ['build/x/a.o'], ...extra,
  });

  it('finds the compiler and turns the line into a preprocessor run without object or depfile', () => {
    const read = readCompileLine(['mkdir -p build/x/', line])!;
    expect(read.command).toBe(1);
    expect(line.slice(read.name[0], read.name[1])).toBe('g++');
    expect(preprocessCommand(compile(['mkdir -p build/x/', line]), read.preprocess!).replace(/\s+/g, ' ')).toBe(
      `g++ -std=gnu++17 -O2 -g -D'NAME=a b' a.cc -E -Wsystem-headers -Wno-error -Werror=date-time`,
    );
    // Shell syntax, flags that write files of their own, or no depfile: no recipe (the compile just runs).
    expect(readCompileLine([`${line} && touch x`])!.preprocess).toBeUndefined();
    expect(readCompileLine([`${line} -save-temps`])!.preprocess).toBeUndefined();
    expect(readCompileLine([line.replace(' -MD', '')])!.preprocess).toBeUndefined();
    expect(readCompileLine(['ld -o k.elf a.o'])).toBeUndefined();
  });

  it('still preprocesses without the object once a shared cache maps the root away in the command', () => {
    const read = readCompileLine(['mkdir -p build/x/', line])!;
    const action = compile(['mkdir -p build/x/', line], { preprocess: read.preprocess, tool: { command: 1, name: read.name, files: [] } });
    const [mapped] = mapRootAway([action], '/some/tree');
    expect(mapped!.commands[1]).toBe(line.replace('g++ ', 'g++ -ffile-prefix-map=/some/tree=. '));
    expect(preprocessCommand(mapped!, mapped!.preprocess!).replace(/\s+/g, ' ')).toBe(
      `g++ -ffile-prefix-map=/some/tree=. -std=gnu++17 -O2 -g -D'NAME=a b' a.cc -E -Wsystem-headers -Wno-error -Werror=date-time`,
    );
    expect(mapped!.commands[1]!.slice(...mapped!.tool!.name)).toBe('g++');
  });

  it("keys the compiler's contents, not its name or the links that lead to it", () => {
    const at = (dir: string): Action => {
      const command = `${dir}/g++ -c -o a.o a.cc`;
      return compile([command], { inputs: ['a.cc', `${dir}/g++`, '/usr/bin/real-g++'], tool: { command: 0, name: [0, dir.length + 4], files: [`${dir}/g++`, '/usr/bin/real-g++'] } });
    };
    const inputs = (dir: string, link: string, content: string): [string, string][] => [['a.cc', '1'], [`${dir}/g++`, link], ['/usr/bin/real-g++', content]];
    const base = preKeyOf(at('/opt/a'), inputs('/opt/a', 'link:/usr/bin/real-g++', 'c1'));
    expect(preKeyOf(at('/usr/local/bin'), inputs('/usr/local/bin', 'link:../../bin/real-g++', 'c1'))).toBe(base);
    expect(preKeyOf(at('/opt/a'), inputs('/opt/a', 'link:/usr/bin/real-g++', 'c2'))).not.toBe(base);
    expect(preKeyOf(at('/opt/a'), [['a.cc', '2'], ['/opt/a/g++', 'link:/usr/bin/real-g++'], ['/usr/bin/real-g++', 'c1']])).not.toBe(base);
  });
});

describe('preprocessed-output cutoff', () => {
  let root: string;
  beforeAll(() => {
    root = copyExample();
    writeConfig(root);
    const cold = build(root);
    expect(cold.ok).toBe(true);
    expect(cold.cutoff).toEqual([]);
  });

  it('a profile switch compiles exactly the includers whose preprocessed output changes; the others are kept and say why', () => {
    const includers = driversConfigIncluders(root);
    const before = preprocessedHashes(root, includers);
    const commandsBefore = fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8');
    const r = build(root, 'conf_drivers_profile=virtio-mmio');
    expect(r.ok).toBe(true);
    const switched = fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8');
    const after = preprocessedHashes(root, includers);
    const both = [...after.keys()].filter((o) => before.has(o)).sort();
    const changed = changedBetween(before, after);
    // The example has both kinds, or this test could not tell cutoff from no cutoff.
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(both.length);
    expect(ranOf(r, 'compile')).toEqual(changed);
    expect(cutoffOf(r)).toEqual(both.filter((o) => !changed.includes(o)));
    expect(new Set(r.cutoff.map((e) => e.reason))).toEqual(new Set(['preprocessed input unchanged']));

    const kept = cutoffOf(r)[0]!;
    const why = JSON.parse(osvd(root, ['why', kept, '--json', '--set', 'conf_drivers_profile=virtio-mmio']).stdout) as { upToDate: boolean; lastRun: { cutoff: boolean } };
    expect(why.upToDate).toBe(true);
    expect(why.lastRun.cutoff).toBe(true);
    expect(osvd(root, ['why', kept, '--set', 'conf_drivers_profile=virtio-mmio']).stdout).toContain('preprocessed input unchanged');

    // Back: the compiled ones come from the store, the kept ones were never replaced.
    const back = build(root, 'conf_drivers_profile=all');
    expect(ranOf(back, 'compile')).toEqual([]);
    expect(back.cutoff).toEqual([]);
    // compile_commands.json followed both switches (each build is a new process, which finds from
    // its record whether the file on disk is the one its compiles give).
    expect(switched).not.toBe(commandsBefore);
    expect(fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8')).toBe(commandsBefore);
  });

  it('compile_commands.json: a build that changes no compile leaves it as it is, and one edited by hand is written again', () => {
    const file = path.join(root, OUT, 'compile_commands.json');
    const text = fs.readFileSync(file, 'utf8');
    const st = fs.statSync(file, { bigint: true });
    expect(ranOf(build(root))).toEqual([]);
    const again = fs.statSync(file, { bigint: true });
    expect([again.ino, again.mtimeNs]).toEqual([st.ino, st.mtimeNs]);
    fs.writeFileSync(file, '[]\n');
    expect(ranOf(build(root))).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    // Removed, and the link from build/ pointed elsewhere: both come back.
    fs.rmSync(file);
    fs.rmSync(path.join(root, 'build/compile_commands.json'));
    fs.symlinkSync('nowhere.json', path.join(root, 'build/compile_commands.json'));
    expect(ranOf(build(root))).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'build/compile_commands.json'), 'utf8')).toBe(text);
  });

  it('an edit inside an #if 0 block that keeps the line count compiles and links nothing', () => {
    const readers = depfileReaders(root, 'include/osv/debug.hh');
    expect(readers.length).toBeGreaterThan(10);
    replaceIn(root, 'include/osv/debug.hh', 'Not built: dbg::set_level covers', 'Not built yet: set_level covers');
    const r = build(root);
    expect(r.ok).toBe(true);
    expect(r.ran).toEqual([]);
    expect(cutoffOf(r)).toEqual(readers);
    expect(build(root).cutoff).toEqual([]);
  });

  it('an edit that shifts lines compiles the includers whose output changed (line markers, debug info)', () => {
    const readers = depfileReaders(root, 'include/osv/debug.hh');
    const before = preprocessedHashes(root, readers);
    replaceIn(root, 'include/osv/debug.hh', ' * Not built', ' *\n * Not built');
    const after = preprocessedHashes(root, readers);
    const changed = changedBetween(before, after);
    expect(changed.length).toBeGreaterThan(0);
    const r = build(root);
    expect(r.ok).toBe(true);
    expect(ranOf(r, 'compile')).toEqual(changed);
    expect(cutoffOf(r)).toEqual(readers.filter((o) => !changed.includes(o)));
  });

  it('a TU that expands __DATE__ is compiled even when its preprocessed output is the same', () => {
    const stamp = `${OUT}/core/build-stamp.o`;
    const readers = depfileReaders(root, 'include/osv/types.h');
    expect(readers).toContain(stamp);
    // Compiles have an entry; a recipe that compiles, then links (libvdso.so) has none and just runs.
    const compiles = new Set(compileEntries(root).map((e) => e.output));
    const notCompiles = readers.filter((o) => !compiles.has(o));
    const before = preprocessedHashes(root, readers);
    // A comment: gone from the preprocessed output, and no line moves.
    replaceIn(root, 'include/osv/types.h', 'Basic fixed-size types', 'Basic fixed-width types');
    expect(changedBetween(before, preprocessedHashes(root, readers))).toEqual([]);
    const r = build(root);
    expect(r.ok).toBe(true);
    expect(ranOf(r)).toEqual([stamp, ...notCompiles].sort());
    expect(cutoffOf(r)).toEqual(readers.filter((o) => o !== stamp && compiles.has(o)));
  });

  it('works the same through the daemon, whose plan is current afterwards', () => {
    startDaemon(root);
    const readers = depfileReaders(root, 'include/osv/debug.hh');
    replaceIn(root, 'include/osv/debug.hh', 'Not built yet:', 'Not built now:');
    const r = build(root);
    expect(r.ok).toBe(true);
    expect((r as BuildJson & { via: string }).via).toBe('daemon');
    expect(r.ran).toEqual([]);
    expect(cutoffOf(r)).toEqual(readers);
    expect(status(root).dirty).toEqual({ run: 0, restore: 0, pending: 0, upToDate: expect.any(Number) });
    osvd(root, ['stop']);
  });
});

describe("the compiler's identity in every compile's key", () => {
  let root: string;
  let bin: string;
  /** The C++ objects (g++ compiles them; gcc the C and assembler ones). */
  let cxxObjects: string[];
  /** What make runs $(CXX) for. */
  let runners: string[];
  /**
   * What ran, but for recipes make runs itself (lateExpansion.ts): their command passes make's
   * variables, so a new CXX changes it whatever the compiler is.
   */
  const besidesMakeRun = (r: BuildJson): string[] =>
    r.ran.filter((e) => !(e.kind === 'other' && /^command changed:(?: [+-]CXX=\S+)+$/.test(e.reason))).map((e) => e.output).sort();
  const wrapper = (version: string): string => `#!/bin/sh\n# g++ ${version}\nexec g++ "$@"\n`;
  const install = (dir: string, text: string): string => {
    fs.mkdirSync(path.join(bin, dir), { recursive: true });
    const file = path.join(bin, dir, 'g++');
    fs.writeFileSync(file, text, { mode: 0o755 });
    return file;
  };
  beforeAll(() => {
    root = copyExample();
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-cc-'));
    writeConfig(root, { CXX: install('a', wrapper('1')) });
    expect(build(root).ok).toBe(true);
    cxxObjects = compileEntries(root)
      .filter((e) => e.file.endsWith('.cc'))
      .map((e) => e.output)
      .sort();
    expect(cxxObjects.length).toBeGreaterThan(20);
    runners = targetsRunning(root, path.join(bin, 'a', 'g++'));
  });
  afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

  it('a new compiler at the same path reruns every recipe that runs it, and nothing else', () => {
    // Every C++ TU, and a recipe that compiles then links (libvdso.so).
    expect(runners.filter((t) => cxxObjects.includes(t))).toEqual(cxxObjects);
    expect(runners.length).toBeGreaterThan(cxxObjects.length);
    install('a', wrapper('2'));
    const r = build(root);
    expect(r.ok).toBe(true);
    // The same g++ underneath writes the same objects: nothing is linked again.
    expect(ranOf(r)).toEqual(runners);
    expect(r.ran.find((e) => e.output === cxxObjects[0])!.reason).toContain(path.join(bin, 'a', 'g++'));
  });

  it('the same compiler at another path compiles nothing: a copy, and a symbolic link against g++ on PATH', () => {
    writeConfig(root, { CXX: install('b', wrapper('2')) });
    const copy = build(root);
    expect(copy.ok).toBe(true);
    expect(besidesMakeRun(copy)).toEqual([]);

    const linked = path.join(bin, 'c', 'g++');
    fs.mkdirSync(path.dirname(linked));
    const onPath = spawnSync('sh', ['-c', 'command -v g++'], { encoding: 'utf8' }).stdout.trim();
    fs.symlinkSync(onPath, linked);
    writeConfig(root, { CXX: linked });
    expect(besidesMakeRun(build(root))).toEqual(runners);
    writeConfig(root, {});
    const plain = build(root);
    expect(plain.ok).toBe(true);
    expect(besidesMakeRun(plain)).toEqual([]);
  });
});

describe('Ctrl-C while a compile is preprocessed', () => {
  let root: string;
  let dir: string;
  /** Compilers that log each call (`c` or `E`) and hold preprocessing while `closed` exists. */
  const calls = (): string[] => (fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) : []);
  let env: Record<string, string>;
  beforeAll(() => {
    root = copyExample();
    writeConfig(root);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-ppgate-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    for (const cc of ['gcc', 'g++']) {
      const real = spawnSync('sh', ['-c', `command -v ${cc}`], { encoding: 'utf8' }).stdout.trim();
      const log = path.join(dir, 'calls');
      fs.writeFileSync(
        path.join(dir, 'bin', cc),
        `#!/bin/sh\ncase " $* " in *" -c "*) echo c >> '${log}';; *" -E "*) echo E >> '${log}'; while [ -e '${dir}/closed' ]; do sleep 0.02; done;; esac\nexec '${real}' "$@"\n`,
        { mode: 0o755 },
      );
    }
    env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` };
    expect(JSON.parse(osvdEnv(root, ['build', '--json'], env).stdout).ok).toBe(true);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts no compile after it, and the next build keeps what the edit left unchanged', async () => {
    const readers = depfileReaders(root, 'include/osv/debug.hh');
    replaceIn(root, 'include/osv/debug.hh', 'Not built: dbg::set_level covers', 'Not built yet: set_level covers');
    fs.writeFileSync(path.join(dir, 'closed'), '');
    const before = calls().length;
    const run = spawnOsvd(root, ['build', '--no-daemon'], env);
    await waitFor('a preprocessing at the gate', () => calls().length > before);
    process.kill(run.pid, 'SIGINT');
    const done = await run.done;
    fs.rmSync(path.join(dir, 'closed'));
    expect(done.code).toBe(130);
    // Only preprocessing was asked for (the edit changes no preprocessed output): a compile would be one started after Ctrl-C.
    expect(calls().slice(before).filter((c) => c === 'c')).toEqual([]);
    const r = JSON.parse(osvdEnv(root, ['build', '--json'], env).stdout) as BuildJson;
    expect(r.ok).toBe(true);
    expect(r.ran).toEqual([]);
    expect(cutoffOf(r)).toEqual(readers);
  });
});
