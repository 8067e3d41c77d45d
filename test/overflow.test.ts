import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appendTo, binWithout, build, copyExample, KERNEL_CHAIN, OUT, osvd, ranOf, removeCopies, startDaemon, status, stopDaemons, waitFor, type BuildJson } from './helpers.js';

/**
 * File events lost on the way to the daemon: an inotify queue that overflows while its reader cannot
 * read (the daemon stopped with SIGSTOP, or watchman), made without root by writing more events than
 * /proc/sys/fs/inotify/max_queued_events. The build through the daemon must build what a one-shot
 * build would, and status must never say "up to date" meanwhile.
 */
afterEach(stopDaemons);
afterAll(removeCopies);

/** The kernel's inotify queue length (per instance); the flood exceeds it whatever it is. */
const CAPACITY = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8').trim());

const objectOf = (tu: string): string => `${OUT}/${tu.replace(/\.(cc|c|S)$/, '.o')}`;

/** One new empty file each: one IN_CREATE event each in a watched folder, none merged (names differ). */
function flood(root: string, dir: string, events: number): void {
  for (let i = 0; i < events; i++) fs.writeFileSync(path.join(root, dir, `f${i}`), '');
}

let serial = 0;
function edit(root: string, tu: string): void {
  appendTo(root, tu, `\nint osvd_overflow_${serial++}(void) { return 1; }\n`);
}

/** While `pid` is stopped: edit `seen`, flood the queue past its length, edit `lost` (their events are dropped). */
function overflowWhileStopped(pid: number, root: string, seen: string[], lost: string[]): void {
  process.kill(pid, 'SIGSTOP');
  try {
    for (const tu of seen) edit(root, tu);
    flood(root, 'flood', CAPACITY + 1000);
    for (const tu of lost) edit(root, tu);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

function buildVia(root: string, ...args: string[]): BuildJson & { via: string } {
  const r = osvd(root, ['build', '--json', ...args]);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BuildJson & { via: string };
}

describe('an overflowed inotify queue', () => {
  it('with the folder watcher: status says verifying or the plan after the check, and the build is a one-shot build', async () => {
    const root = copyExample();
    fs.mkdirSync(path.join(root, 'flood'));
    expect(build(root).ok).toBe(true);
    const pid = startDaemon(root);
    expect(status(root).daemon.watcher).toMatchObject({ mode: 'events', backend: 'folders', healthy: true });
    const seen = ['core/elf.cc'];
    const lost = ['core/mmu.cc', 'fs/vfs.cc'];
    overflowWhileStopped(pid, root, seen, lost);

    // Whatever moment status is asked at, it never calls the tree up to date.
    for (let i = 0; i < 4; i++) {
      const s = status(root);
      if (s.daemon.verifying) expect(s.daemon.verifying).toContain('inotify queue');
      else expect(s.dirty).toMatchObject({ run: 3, pending: KERNEL_CHAIN.length });
      expect(osvd(root, ['status']).stdout).not.toContain('state: up to date');
    }
    // The daemon saw the overflow itself (not only the build's check).
    const log = fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8');
    expect(log).toContain('file events may have been lost');

    const r = buildVia(root);
    expect(r.via).toBe('daemon');
    expect(ranOf(r)).toEqual([...[...seen, ...lost].map(objectOf), ...KERNEL_CHAIN].sort());
    expect(ranOf(buildVia(root, '--no-daemon'))).toEqual([]);
    expect(status(root)).toMatchObject({ daemon: { verifying: null }, dirty: { run: 0, restore: 0, pending: 0 } });
  }, 600_000);
});

const hasWatchman = spawnSync('watchman', ['--version'], { encoding: 'utf8' }).status === 0;

/** A watchman server of the test's own: its socket, state, log and pid in a temporary folder. */
function privateWatchman(): {
  sock: string;
  readonly pid: number;
  log: string;
  watch: (root: string) => void;
  rewatch: (root: string) => void;
  shutdown: () => void;
  startAgain: () => void;
  stop: () => void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-wm-'));
  const args = [`--sockname=${dir}/sock`, `--statefile=${dir}/state`, `--logfile=${dir}/log`, `--pidfile=${dir}/pid`, '--no-save-state'];
  const start = (): number => {
    const started = spawnSync('watchman', [...args, 'get-sockname'], { encoding: 'utf8' });
    if (started.status !== 0) throw new Error(`watchman did not start: ${started.stderr}`);
    return Number(fs.readFileSync(`${dir}/pid`, 'utf8').trim());
  };
  let pid = start();
  const run = (commands: unknown[][]): void => {
    for (const cmd of commands) {
      const r = spawnSync('watchman', [...args, '-j'], { input: JSON.stringify(cmd), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`watchman ${String(cmd[0])} failed: ${r.stderr}${r.stdout}`);
    }
  };
  return {
    sock: `${dir}/sock`,
    get pid() {
      return pid;
    },
    log: `${dir}/log`,
    /** Watch `root` and wait for the crawl (a synced clock), as a tree watched before the daemon starts. */
    watch: (root: string) => run([['watch-project', root], ['clock', root, { sync_timeout: 60_000 }]]),
    /** Drop the watch and watch again: a clock of the old watch is then a fresh instance's. */
    rewatch: (root: string) => run([['watch-del', root], ['watch-project', root], ['clock', root, { sync_timeout: 60_000 }]]),
    /** Shut the server down (an upgrade, a restart), keeping its folder for startAgain. */
    shutdown: () => void spawnSync('watchman', [...args, 'shutdown-server'], { encoding: 'utf8' }),
    /** A new server on the same socket. */
    startAgain: () => void (pid = start()),
    stop: () => {
      spawnSync('watchman', [...args, 'shutdown-server'], { encoding: 'utf8' });
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A built copy of the example, watched by `wm` before the daemon starts: the daemon marks watchman's
 * clock, makes its first plan (everything up to date), then waits before it subscribes until the test
 * writes `gate`.
 */
async function pausedBeforeWatch(wm: ReturnType<typeof privateWatchman>): Promise<{ root: string; gate: string }> {
  const root = copyExample();
  expect(build(root).ok).toBe(true);
  wm.watch(root);
  const gate = path.join(root, 'watch-gate');
  startDaemon(root, { OSVD_WATCHER: 'watchman', WATCHMAN_SOCK: wm.sock, OSVD_PAUSE_AT: `before-watch:${gate}` });
  await waitFor('the first plan', () => osvd(root, ['logs']).stdout.includes('graph loaded') || undefined);
  return { root, gate };
}

// CI installs watchman (.ci/run): there the watchman tests run, never skipped.
describe.runIf(hasWatchman || process.env.CI)('the watchman backend', () => {
  it('follows edits, builds right after watchman itself overflowed and recrawled, and degrades when watchman goes away', async () => {
    const wm = privateWatchman();
    try {
      const root = copyExample();
      fs.mkdirSync(path.join(root, 'flood'));
      expect(build(root).ok).toBe(true);
      startDaemon(root, { OSVD_WATCHER: 'watchman', WATCHMAN_SOCK: wm.sock });
      expect(status(root).daemon.watcher).toMatchObject({ mode: 'events', backend: 'watchman', healthy: true });
      // A tree watchman did not watch yet: the daemon loads while it crawls, then checks every file.
      expect(osvd(root, ['logs']).stdout).toMatch(/watching the tree .*sinceMark=false/);

      // An edit reaches the plan through the subscription.
      edit(root, 'core/sched.cc');
      await waitFor('the edit to reach the plan', () => status(root).dirty.run === 1);
      expect(ranOf(buildVia(root))).toEqual([objectOf('core/sched.cc'), ...KERNEL_CHAIN].sort());

      // watchman stopped: its queue overflows, it recrawls when it runs again.
      const seen = ['core/elf.cc'];
      const lost = ['core/mutex.cc', 'fs/vfs.cc'];
      overflowWhileStopped(wm.pid, root, seen, lost);
      const r = buildVia(root);
      expect(r.via).toBe('daemon');
      expect(ranOf(r)).toEqual([...[...seen, ...lost].map(objectOf), ...KERNEL_CHAIN].sort());
      expect(fs.readFileSync(wm.log, 'utf8')).toContain('IN_Q_OVERFLOW');
      expect(ranOf(buildVia(root, '--no-daemon'))).toEqual([]);

      // watchman gone: the daemon says so, scans instead, and still builds right.
      wm.stop();
      const degraded = await waitFor('the daemon to notice', () => {
        const s = status(root);
        return s.daemon.watcher?.healthy === false ? s : undefined;
      });
      expect(degraded.daemon.watcher).toMatchObject({ mode: 'polling', backend: 'watchman', problem: expect.stringContaining('watchman') });
      edit(root, 'core/debug.cc');
      expect(ranOf(buildVia(root))).toEqual([objectOf('core/debug.cc'), ...KERNEL_CHAIN].sort());
    } finally {
      wm.stop();
    }
  }, 600_000);

  it('watchman restarted under the daemon: stat scans meanwhile, then watchman again by itself, every file checked once', async () => {
    const wm = privateWatchman();
    try {
      const root = copyExample();
      expect(build(root).ok).toBe(true);
      startDaemon(root, { OSVD_WATCHER: 'watchman', WATCHMAN_SOCK: wm.sock });
      expect(status(root).daemon.watcher).toMatchObject({ mode: 'events', backend: 'watchman', healthy: true });
      wm.shutdown();
      await waitFor('the daemon to notice', () => status(root).daemon.watcher?.mode === 'polling');
      // Made while no watchman runs: in no event of the new server's.
      edit(root, 'core/sched.cc');
      wm.startAgain();
      const s = await waitFor('the daemon to watch with watchman again and check every file', () => {
        const now = status(root);
        return now.daemon.watcher?.mode === 'events' && now.daemon.verifying === null && now.dirty.run === 1 ? now : undefined;
      });
      expect(s.daemon.watcher).toMatchObject({ backend: 'watchman', healthy: true });
      expect(s.daemon.watcher?.problem).toBeUndefined();
      const log = osvd(root, ['logs']).stdout;
      expect(log).toContain('watchman watches the tree again');
      expect(log).toMatch(/file events may have been lost: checking every tracked file .*watchman answers again/);
      // Events again: an edit now reaches the plan through the new server's subscription.
      edit(root, 'core/mutex.cc');
      await waitFor('the second edit to reach the plan', () => status(root).dirty.run === 2);
      expect(ranOf(buildVia(root))).toEqual([objectOf('core/sched.cc'), objectOf('core/mutex.cc'), ...KERNEL_CHAIN].sort());
    } finally {
      wm.stop();
    }
  }, 600_000);

  it('reports an edit made between the first plan and the watch, and checks by stat only what that plan did not look at', async () => {
    const wm = privateWatchman();
    try {
      const { root, gate } = await pausedBeforeWatch(wm);
      edit(root, 'core/sched.cc');
      fs.writeFileSync(gate, '');
      await waitFor('the edit to reach the plan', () => status(root).dirty.run === 1);
      expect(ranOf(buildVia(root))).toEqual([objectOf('core/sched.cc'), ...KERNEL_CHAIN].sort());
      const log = osvd(root, ['logs']).stdout;
      expect(log).toMatch(/watching the tree .*sinceMark=true/);
      expect(log).toMatch(/checked the tracked files not looked at since the mark  checked=0 changed=0 /);
    } finally {
      wm.stop();
    }
  }, 600_000);

  it('a fresh watchman instance between the first plan and the watch: every tracked file is checked, those that plan looked at too', async () => {
    const wm = privateWatchman();
    try {
      const { root, gate } = await pausedBeforeWatch(wm);
      // A file the first plan looked at, edited; then the clock the daemon marked is one of a watch
      // that is gone: watchman answers it with a fresh instance and no files, the edit in no event.
      edit(root, 'core/sched.cc');
      wm.rewatch(root);
      fs.writeFileSync(gate, '');
      const s = await waitFor('the check to end with the edit in the plan', () => {
        const now = status(root);
        return now.dirty.run === 1 && now.daemon.verifying === null ? now : undefined;
      });
      expect(s.daemon.watcher).toMatchObject({ mode: 'events', backend: 'watchman', healthy: true });
      const log = osvd(root, ['logs']).stdout;
      // The mark no longer holds: the watch's first check looks at everything.
      expect(log).toMatch(/watching the tree .*sinceMark=false/);
      expect(log).toMatch(/file events may have been lost: checking every tracked file .*fresh instance/);
      const checked = /checked every tracked file  checked=(\d+) changed=\d+ /.exec(log);
      expect(Number(checked?.[1])).toBeGreaterThan(100);
      expect(ranOf(buildVia(root))).toEqual([objectOf('core/sched.cc'), ...KERNEL_CHAIN].sort());
    } finally {
      wm.stop();
    }
  }, 600_000);
});

describe('without watchman', () => {
  it('the folder watcher stands in where watchman is absent', () => {
    const root = copyExample();
    const env = { PATH: binWithout(/^watchman/), WATCHMAN_SOCK: '' };
    startDaemon(root, { ...env, OSVD_WATCHER: 'auto' });
    let s = status(root);
    expect(s.daemon.watcher).toMatchObject({ mode: 'events', backend: 'folders', healthy: true });
    expect(s.daemon.watcher?.problem).toBeUndefined();
    stopDaemons();
    // Asked for by name and absent: the folder watcher stands in, and status says why.
    startDaemon(root, { ...env, OSVD_WATCHER: 'watchman' });
    s = status(root);
    expect(s.daemon.watcher).toMatchObject({ mode: 'events', backend: 'folders', problem: expect.stringContaining('watchman was asked for but is not available') });
  });
});
