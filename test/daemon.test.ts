import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropMallocTuning, withMallocTuning } from '../daemon/mallocTuning.js';
import {
  build,
  compiledOrKept,
  copyExample,
  driversConfigIncluders,
  hashTree,
  kernelObjects,
  make,
  OUT,
  osvd,
  osvdAsync,
  osvdEnv,
  ranOf,
  removeCopies,
  startDaemon,
  status,
  stopDaemons,
  waitFor,
  writeConfig,
  KERNEL_CHAIN,
  CHAIN_LINKS,
} from './helpers.js';

/** The real daemon on copies of examples/mini-osv, with real files, make and g++. */
const KERNEL = `${OUT}/loader.elf`;
const GENERATOR = `${OUT}/gen/include/osv/drivers_config.h`;

afterEach(stopDaemons);
afterAll(removeCopies);

function symbols(root: string, object: string): string {
  return execFileSync('nm', [path.join(root, object)], { encoding: 'utf8' });
}

/** Wait until the daemon has finished a build after `builds` and the tree is up to date. */
async function settled(root: string, builds: number): Promise<ReturnType<typeof status>> {
  return waitFor('the automatic build', () => {
    const s = status(root);
    return s.builds > builds && !s.building && s.dirty.run + s.dirty.restore + s.dirty.pending === 0 ? s : undefined;
  });
}

describe('daemon lifecycle', () => {
  it('starts once per tree, answers over a 0600 socket, stops; a second start names the pid', () => {
    const root = copyExample();
    const pid = startDaemon(root);
    const again = JSON.parse(osvd(root, ['start', '--json']).stdout);
    expect(again).toMatchObject({ running: true, pid, started: false });
    expect(osvd(root, ['start']).stdout).toContain(`already runs for ${root} (pid ${pid})`);
    const sock = path.join(root, 'build/.osvd/osvd.sock');
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(root, 'build/.osvd')).mode & 0o777).toBe(0o700);
    const s = status(root);
    expect(s.daemon).toMatchObject({ running: true, pid, watcher: { mode: 'events', healthy: true } });
    expect(osvd(root, ['status']).stdout).toMatch(new RegExp(`daemon: pid ${pid}`));
    const b = build(root);
    expect(b.ok).toBe(true);
    expect((b as unknown as { via: string }).via).toBe('daemon');
    expect(osvd(root, ['logs']).stdout).toMatch(/daemon ready/);
    expect(osvd(root, ['stop']).stdout).toContain(`daemon stopped (pid ${pid})`);
    expect(fs.existsSync(sock)).toBe(false);
    expect(status(root).daemon.running).toBe(false);
  });

  it("gives its own malloc fixed thresholds and what it runs the user's environment; a user's GLIBC_TUNABLES stays", () => {
    const root = copyExample();
    const envFile = path.join(root, 'recipe.env');
    fs.appendFileSync(path.join(root, 'scripts/gen-version-header'), `\nenv > '${envFile}'\n`);
    startDaemon(root);
    expect(build(root).ok).toBe(true);
    expect(osvd(root, ['logs']).stdout).toContain(`daemon ready  root=${root} actions=74 malloc=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072\n`);
    const seen = fs.readFileSync(envFile, 'utf8');
    expect(seen).toMatch(/^PATH=/m);
    expect(seen).not.toMatch(/GLIBC_TUNABLES|OSVD_MALLOC_TUNED/);
    // A user's own setting is theirs: neither replaced for the daemon nor taken out of what it runs.
    const user = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
    expect(withMallocTuning(user)).toEqual(user);
    const inDaemon = { ...withMallocTuning({}), GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
    dropMallocTuning(inDaemon);
    expect(inDaemon).toEqual(user);
  });

  it('replaces a stale socket and pid file left by a crash', () => {
    const root = copyExample();
    const state = path.join(root, 'build/.osvd');
    fs.mkdirSync(state, { recursive: true });
    fs.writeFileSync(path.join(state, 'daemon.json'), JSON.stringify({ pid: 2 ** 22 + 12345, socket: path.join(state, 'osvd.sock'), root, startedAt: 0 }));
    fs.writeFileSync(path.join(state, 'osvd.sock'), '');
    expect(status(root).daemon.running).toBe(false);
    const pid = startDaemon(root);
    expect(status(root).daemon.pid).toBe(pid);
  });

  it('finds edits made while no daemon ran, without rebuilding what did not change', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_offline_edit() { return 1; }\n');
    startDaemon(root);
    const s = status(root);
    expect(s.dirty.run).toBe(1);
    // The kernel's link chain waits on the object.
    expect(s.dirty.pending).toBe(KERNEL_CHAIN.length);
    const b = build(root);
    expect(ranOf(b)).toEqual([`${OUT}/core/sched.o`, ...KERNEL_CHAIN].sort());
  });
});

describe('watching the tree', () => {
  it('rebuilds an edited TU and the link by itself, and status shows it', async () => {
    const root = copyExample();
    writeConfig(root, { autoBuild: true, quietMs: 200 });
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    const before = status(root).builds;
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_auto_edit() { return 2; }\n');
    const s = await settled(root, before);
    expect(s.builds).toBe(before + 1);
    expect([...(s.lastBuild!.ranOutputs ?? [])].sort()).toEqual([`${OUT}/core/sched.o`, ...KERNEL_CHAIN].sort());
    expect(symbols(root, `${OUT}/core/sched.o`)).toContain('osvd_auto_edit');
  });

  it('sees saves by rename, new folders written at once, deletes, and takes a 500-file burst as one build', async () => {
    const root = copyExample();
    writeConfig(root, { autoBuild: true, quietMs: 400 });
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    let builds = status(root).builds;

    // An editor's save: write a temporary file, rename it over the original.
    const tu = path.join(root, 'core/mutex.cc');
    fs.writeFileSync(`${tu}.swp`, fs.readFileSync(tu, 'utf8') + '\nint osvd_saved_by_rename() { return 3; }\n');
    fs.renameSync(`${tu}.swp`, tu);
    let s = await settled(root, builds);
    expect(s.lastBuild!.ranOutputs).toContain(`${OUT}/core/mutex.o`);
    builds = s.builds;

    // A new folder with a header written into it at once, included by a TU.
    fs.mkdirSync(path.join(root, 'include/extra'));
    fs.writeFileSync(path.join(root, 'include/extra/answer.h'), '#define OSVD_ANSWER 42\n');
    fs.appendFileSync(path.join(root, 'core/debug.cc'), '\n#include "extra/answer.h"\nint osvd_answer() { return OSVD_ANSWER; }\n');
    s = await settled(root, builds);
    expect(s.lastBuild!.ranOutputs).toContain(`${OUT}/core/debug.o`);
    builds = s.builds;
    // The header in the new folder is watched too.
    fs.writeFileSync(path.join(root, 'include/extra/answer.h'), '#define OSVD_ANSWER 43\n');
    s = await settled(root, builds);
    expect(s.lastBuild!.ranOutputs).toContain(`${OUT}/core/debug.o`);
    builds = s.builds;

    // A delete: the TU stops including the header, the header goes.
    const debug = path.join(root, 'core/debug.cc');
    fs.writeFileSync(debug, fs.readFileSync(debug, 'utf8').replace('#include "extra/answer.h"', '#define OSVD_ANSWER 44'));
    fs.rmSync(path.join(root, 'include/extra'), { recursive: true });
    s = await settled(root, builds);
    expect(s.lastBuild!.ok).toBe(true);
    builds = s.builds;

    // A burst of 500 files (a checkout), one of them a real change: one build.
    fs.mkdirSync(path.join(root, 'docs/burst'), { recursive: true });
    for (let i = 0; i < 500; i++) fs.writeFileSync(path.join(root, `docs/burst/note-${i}.txt`), `note ${i}\n`);
    fs.appendFileSync(path.join(root, 'core/elf.cc'), '\nint osvd_burst() { return 5; }\n');
    s = await settled(root, builds);
    await new Promise((r) => setTimeout(r, 1000));
    s = status(root);
    expect(s.builds).toBe(builds + 1);
    expect(s.lastBuild!.ranOutputs).toContain(`${OUT}/core/elf.o`);
  });

  it('degrades to stat scans when the watcher fails, says so with the fix, and still sees edits', async () => {
    const root = copyExample();
    writeConfig(root, { pollMs: 300 });
    expect(build(root).ok).toBe(true);
    startDaemon(root, { OSVD_WATCHER_FAIL: 'ENOSPC' });
    const s = await waitFor('the degraded watcher', () => {
      const x = status(root);
      return x.daemon.watcher?.mode === 'polling' ? x : undefined;
    });
    expect(s.daemon.watcher).toMatchObject({ healthy: false, problem: expect.stringContaining('inotify limit'), fix: expect.stringContaining('fs.inotify.max_user_watches') });
    expect(osvd(root, ['status']).stdout).toContain('fs.inotify.max_user_watches');
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_polled() { return 6; }\n');
    await waitFor('the scan to see the edit', () => status(root).dirty.run === 1);
  });
});

describe('knobs and builds through the daemon', () => {
  it('osvd set conf_drivers_profile=virtio-mmio rebuilds the same set as the one-shot engine; --reset goes back', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    const all = kernelObjects(root, []);
    const mmio = kernelObjects(root, ['conf_drivers_profile=virtio-mmio']);
    startDaemon(root);
    const set = JSON.parse(osvd(root, ['set', 'conf_drivers_profile=virtio-mmio', '--json']).stdout);
    expect(set).toMatchObject({ via: 'daemon', liveKnobs: { conf_drivers_profile: 'virtio-mmio' } });
    const s = status(root);
    expect(s.knobs.conf_drivers_profile).toBe('virtio-mmio');
    expect(s.liveKnobs).toEqual({ conf_drivers_profile: 'virtio-mmio' });
    const r = build(root);
    const includers = driversConfigIncluders(root).filter((o) => mmio.includes(o));
    const fresh = mmio.filter((o) => !all.includes(o));
    expect(ranOf(r, 'generate')).toEqual([GENERATOR]);
    expect(compiledOrKept(r)).toEqual([...new Set([...includers, ...fresh])].sort());
    expect(ranOf(r, 'link')).toEqual(CHAIN_LINKS);
    expect(osvd(root, ['set', 'conf_drivers_profile=nope']).stderr).toMatch(/osvd set conf_drivers_profile: unknown drivers profile 'nope'/);
    osvd(root, ['set', '--reset']);
    expect(status(root).knobs.conf_drivers_profile).toBe('all');
    const back = build(root);
    expect(ranOf(back, 'compile')).toEqual([]);
    // Live knobs are kept in the database: a one-shot command sees them too.
    osvd(root, ['set', 'conf_hide_symbols=1']);
    osvd(root, ['stop']);
    expect(status(root).knobs.conf_hide_symbols).toBe('1');
  });

  it('two clients building and querying at once get consistent answers', async () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_two_clients() { return 7; }\n');
    await new Promise((r) => setTimeout(r, 300));
    const [a, b, s1, s2] = await Promise.all([
      osvdAsync(root, ['build', '--json']),
      osvdAsync(root, ['build', '--json']),
      osvdAsync(root, ['status', '--json']),
      osvdAsync(root, ['status', '--json']),
    ]);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    expect(ra.ok && rb.ok).toBe(true);
    // Builds run one after the other: the work is done once in all.
    expect([...ra.ran, ...rb.ran].map((e: { output: string }) => e.output).sort()).toEqual([`${OUT}/core/sched.o`, ...KERNEL_CHAIN].sort());
    for (const s of [s1, s2]) expect(JSON.parse(s.stdout).daemon.running).toBe(true);
    expect(status(root).dirty.run).toBe(0);
  });

  it('an edit while its compile runs ends in the right state', async () => {
    const root = copyExample();
    writeConfig(root, { autoBuild: true, quietMs: 200 });
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    const builds = status(root).builds;
    const running = osvdAsync(root, ['build', '--json', '--set', 'conf_hide_symbols=0']);
    // Start a rebuild of every TU via a live knob, then edit a TU while the compiles run.
    osvd(root, ['set', 'conf_hide_symbols=1']);
    await new Promise((r) => setTimeout(r, 800));
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_edit_during_compile() { return 8; }\n');
    await running;
    await settled(root, builds);
    await new Promise((r) => setTimeout(r, 800));
    const s = await settled(root, builds);
    expect(s.lastBuild!.ok).toBe(true);
    expect(symbols(root, `${OUT}/core/sched.o`)).toContain('osvd_edit_during_compile');
    expect(build(root).ran).toEqual([]);
  });

  it('SIGKILL in the middle of a build: the restarted daemon trusts no stale output and sees edits made meanwhile', async () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    const pid = startDaemon(root);
    const running = osvdAsync(root, ['build', '--json', '--set', 'conf_hide_symbols=1']);
    await waitFor('the build to be under way', () => {
      const s = status(root);
      return s.building && s.building.finished > 10;
    });
    process.kill(pid, 'SIGKILL');
    await running;
    fs.appendFileSync(path.join(root, 'core/mutex.cc'), '\nint osvd_after_crash() { return 9; }\n');
    startDaemon(root);
    const r = build(root, 'conf_hide_symbols=1');
    expect(r.ok).toBe(true);
    expect(symbols(root, `${OUT}/core/mutex.o`)).toContain('osvd_after_crash');
    expect(build(root, 'conf_hide_symbols=1').ran).toEqual([]);
    osvd(root, ['stop']);
    // Every output equals what make builds from scratch in the same folder.
    const skip = (rel: string): boolean => rel === '.osvd' || rel.startsWith('.osvd/');
    const ours = hashTree(path.join(root, OUT), skip);
    fs.rmSync(path.join(root, OUT), { recursive: true });
    expect(make(root, ['-j2', 'fs=zfs', 'conf_hide_symbols=1']).code).toBe(0);
    const theirs = hashTree(path.join(root, OUT), skip);
    const differ = [...theirs].filter(([f, h]) => ours.get(f) !== h && !f.endsWith('version_script') && !f.endsWith('all.symbols')).map(([f]) => f);
    expect(differ).toEqual([]);
  });
});

describe('builds through the daemon trust its watchers', () => {
  it('an edit just before a build is built; outputs deleted or overwritten behind its back are redone; a no-op decides nothing', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    const all = status(root).graph.actions;
    // No-op: answered from the plan.
    const noop = build(root);
    expect(noop.ok).toBe(true);
    expect(noop.ran).toEqual([]);
    expect(noop.upToDate).toBe(all);
    // An edit and, at once, a build: the watcher's events are in before the build trusts the plan.
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_edit_then_build() { return 3; }\n');
    const edited = build(root);
    expect(ranOf(edited)).toEqual([`${OUT}/core/sched.o`, ...KERNEL_CHAIN].sort());
    expect(symbols(root, `${OUT}/core/sched.o`)).toContain('osvd_edit_then_build');
    // Outputs changed in the build folder (not watched by the tree watcher): the next build sees them.
    const object = `${OUT}/core/sched.o`;
    const good = fs.readFileSync(path.join(root, object));
    fs.rmSync(path.join(root, object));
    fs.writeFileSync(path.join(root, KERNEL), 'not a kernel');
    const repaired = build(root);
    expect(repaired.ok).toBe(true);
    expect([...ranOf(repaired), ...repaired.restored.map((r) => r.output)].sort()).toEqual([object, KERNEL].sort());
    expect(fs.readFileSync(path.join(root, object)).equals(good)).toBe(true);
    expect(build(root).ran).toEqual([]);
    expect(status(root).dirty).toMatchObject({ run: 0, restore: 0, pending: 0 });
  });
});

describe('bad requests', () => {
  it('garbage on the socket is refused and the daemon keeps serving', async () => {
    const root = copyExample();
    startDaemon(root);
    const net = await import('node:net');
    const sock = path.join(root, 'build/.osvd/osvd.sock');
    const reply = await new Promise<string>((resolve) => {
      const c = net.connect(sock, () => c.write('this is not json\n{"id":5,"method":"nope"}\n'));
      let got = '';
      c.on('data', (d) => {
        got += d;
        if (got.split('\n').filter(Boolean).length >= 2) {
          c.end();
          resolve(got);
        }
      });
    });
    expect(reply).toMatch(/BAD_REQUEST/);
    expect(reply).toMatch(/unknown method 'nope'/);
    expect(status(root).daemon.running).toBe(true);
  });

  it('build through the daemon with --set leaves the live knobs alone', () => {
    const root = copyExample();
    startDaemon(root);
    expect(build(root, 'conf_drivers_profile=base').ok).toBe(true);
    expect(status(root).knobs.conf_drivers_profile).toBe('all');
    expect(osvdEnv(root, ['why', KERNEL, '--json'], {}).code).toBe(0);
  });
});
