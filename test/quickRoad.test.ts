import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../base/process.js';
import { appendTo, build, copyExample, osvd, OUT, ranOf, REPO, removeCopies, startDaemon, stopDaemons, type BuildJson } from './helpers.js';

afterEach(stopDaemons);
afterAll(removeCopies);

const OSVD = path.join(REPO, 'bin', 'osvd.js');

/**
 * `osvd build` through a daemon takes a short road (daemon/quick.ts) for the options it knows, and the
 * full command line for any other: `-j 2` is the short road's, `--jobs=2` the full CLI's. Both must
 * build, print, fail and exit alike.
 */
const ROADS = { short: ['-j', '2'], full: ['--jobs=2'] } as const;

/** Text output without what changes from run to run (times). */
const steady = (text: string): string => text.replace(/\d+(\.\d+)? (ms|s)\b/g, 'T');

/** The same refusal on both roads: exit 2, the same stdout and stderr, naming `what`. */
function refusedAlike(said: { code: number | null; stdout: string; stderr: string }[], what: string): void {
  expect(said.map((r) => r.code)).toEqual([2, 2]);
  expect(said[0]!.stdout).toBe(said[1]!.stdout);
  expect(said[0]!.stderr).toBe(said[1]!.stderr);
  expect(said[0]!.stdout + said[0]!.stderr).toContain(what);
}

describe('osvd build through the daemon, on the short road and the full one', () => {
  it('builds the targets asked for, reports and fails alike', async () => {
    const root = copyExample();
    startDaemon(root);
    expect(build(root).ok).toBe(true);
    let n = 0;
    const edit = (): void => {
      n++;
      appendTo(root, 'core/sched.cc', `\nstatic int osvd_quick_road_${n} __attribute__((used));\n`);
      appendTo(root, 'core/mmu.cc', `\nstatic int osvd_quick_road_${n} __attribute__((used));\n`);
    };
    for (const [road, jobs] of Object.entries(ROADS)) {
      // A target and -k 0: only sched.o is compiled (mmu.cc changed too), and the link is not asked for.
      edit();
      // First a dry run (-n) of the same target, with its reasons: the same answer on both roads.
      const dry = osvd(root, ['build', '-n', '--json', ...jobs, 'core/sched.cc']);
      expect(dry.code, road).toBe(0);
      const plan = JSON.parse(dry.stdout) as { run: { output: string }[]; via: string };
      expect(plan.run.map((e) => e.output), road).toEqual([`${OUT}/core/sched.o`]);
      expect(plan.via, road).toBe('daemon');
      expect(osvd(root, ['build', '-n', ...jobs, 'core/sched.cc']).stdout, road).toMatch(/^osvd: dry run \(daemon\): 1 would run, 0 would be restored, 0 may run, \d+ up to date; nothing was run or recorded$/m);
      const r = osvd(root, ['build', '--json', '-k', '0', ...jobs, 'core/sched.cc']);
      expect(r.code, road).toBe(0);
      const j = JSON.parse(r.stdout) as BuildJson;
      expect(ranOf(j, 'compile'), road).toEqual([`${OUT}/core/sched.o`]);
      expect(r.stderr, road).toBe('');
    }
    // The text summary, alike on both roads (what runs after an edit depends on what the links make
    // of it, so the counts are not compared): one line on stdout, nothing on stderr.
    for (const [road, jobs] of Object.entries(ROADS)) {
      edit();
      const r = osvd(root, ['build', '--quiet', ...jobs]);
      expect(r.code, road).toBe(0);
      expect(r.stderr, road).toBe('');
      expect(steady(r.stdout), road).toMatch(/^osvd: build ok in T \[release\.x64, profile all, hide_symbols 0\]: [1-9]\d* ran, 0 restored, \d+ up to date \(daemon\)\n$/);
    }
    // The daemon's refusal of an unknown knob: the same error, named, exit 2, in JSON and in text.
    for (const json of [true, false]) {
      const said = Object.values(ROADS).map((jobs) => osvd(root, ['build', ...(json ? ['--json'] : []), ...jobs, '--set', 'no_such_knob=1']));
      for (const r of said) expect(r.code).toBe(2);
      expect(said[0]!.stdout).toBe(said[1]!.stdout);
      expect(said[0]!.stderr).toBe(said[1]!.stderr);
      if (json) expect((JSON.parse(said[0]!.stdout) as { ok: boolean; error: { code: string } }).error.code).toMatch(/^[A-Z_]+$/);
      else expect(said[0]!.stderr).toContain('no_such_knob');
    }
    // A compile that fails: exit 1, the compiler's message shown, on both roads.
    for (const [road, jobs] of Object.entries(ROADS)) {
      appendTo(root, 'core/sched.cc', `\nint osvd_quick_road_error_${road} = ;\n`);
      const r = osvd(root, ['build', '--quiet', ...jobs]);
      expect(r.code, road).toBe(1);
      expect(r.stdout + r.stderr, road).toContain(`osvd_quick_road_error_${road}`);
    }
    // -j 0 is a usage error: the short road leaves it to the full command line, which says so (exit 2).
    const bad = osvd(root, ['build', '-j', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('it must be a whole number above 0');
  }, 180_000);
});

describe('osvd why through the daemon, on the short road and the full one', () => {
  /** `--set K=V` is the short road's, `--set=K=V` the full CLI's; the default profile, so the same question. */
  const WHY_ROADS = { short: ['--set', 'conf_drivers_profile=all'], full: ['--set=conf_drivers_profile=all'] } as const;

  it('answers alike, in text and JSON, for a stale object, from a folder of the tree, and for a path not in the graph', () => {
    const root = copyExample();
    startDaemon(root);
    expect(build(root).ok).toBe(true);
    appendTo(root, 'core/sched.cc', '\nstatic int osvd_quick_why __attribute__((used));\n');
    const asked = (args: string[]): { code: number | null; stdout: string; stderr: string }[] =>
      Object.values(WHY_ROADS).map((road) => osvd(root, ['why', ...args, ...road]));
    const [shortJson, fullJson] = asked(['--json', `${OUT}/core/sched.o`]);
    expect(shortJson!.code).toBe(0);
    expect(shortJson!.stdout).toBe(fullJson!.stdout);
    const w = JSON.parse(shortJson!.stdout) as { path: string; upToDate: boolean };
    expect(w).toMatchObject({ path: `${OUT}/core/sched.o`, upToDate: false });
    const [shortText, fullText] = asked([`${OUT}/core/sched.o`]);
    expect(shortText!.stdout).toBe(fullText!.stdout);
    expect(shortText!.stdout).toContain('core/sched.cc');
    expect(shortText!.stderr).toBe('');
    // A path relative to the folder the command runs in, there.
    const fromCore = Object.values(WHY_ROADS).map((road) => spawnSync(process.execPath, [OSVD, 'why', '--json', 'sched.cc', ...road], { cwd: path.join(root, 'core'), encoding: 'utf8' }));
    expect(fromCore[0]!.status).toBe(0);
    expect(fromCore[0]!.stdout).toBe(fromCore[1]!.stdout);
    for (const json of [true, false]) {
      refusedAlike(asked([...(json ? ['--json'] : []), 'no/such/file.o']), 'no/such/file.o');
    }
  }, 180_000);
});

describe('osvd set through the daemon, on the short road and the full one', () => {
  it('sets, resets and refuses alike, in text and JSON', () => {
    const root = copyExample();
    startDaemon(root);
    // `--root=DIR` is read by the full CLI only: the same tree, the other road.
    const roads = { short: [] as string[], full: [`--root=${root}`] };
    const both = (args: string[]): { code: number | null; stdout: string; stderr: string }[] => Object.values(roads).map((road) => osvd(root, ['set', ...args, ...road]));
    for (const json of [false, true]) {
      const flag = json ? ['--json'] : [];
      const set = both([...flag, 'conf_drivers_profile=virtio-mmio']);
      expect(set.map((r) => r.code)).toEqual([0, 0]);
      expect(set[0]!.stdout).toBe(set[1]!.stdout);
      if (json) expect(JSON.parse(set[0]!.stdout)).toMatchObject({ ok: true, liveKnobs: { conf_drivers_profile: 'virtio-mmio' }, knobs: { conf_drivers_profile: 'virtio-mmio' }, via: 'daemon' });
      else expect(set[0]!.stdout).toBe('knobs set live: conf_drivers_profile=virtio-mmio\n');
      const reset = both([...flag, '--reset']);
      expect(reset[0]!.stdout).toBe(reset[1]!.stdout);
      if (!json) expect(reset[0]!.stdout).toBe('no knobs set live: osv.config.ts applies\n');
      refusedAlike(both([...flag, 'no_such_knob=1']), 'no_such_knob');
    }
  }, 180_000);
});

describe('osvd stop through the daemon, on the short road and the full one', () => {
  it('stops the daemon, waits until its process is gone and says so alike; without a daemon, both say there is none', () => {
    const root = copyExample();
    // `--root=DIR` is read by the full CLI only: the same tree, the other road.
    const roads = { short: [] as string[], full: [`--root=${root}`] };
    for (const [road, args] of Object.entries(roads)) {
      for (const json of [true, false]) {
        const pid = startDaemon(root);
        const r = osvd(root, ['stop', ...(json ? ['--json'] : []), ...args]);
        expect(r.code, road).toBe(0);
        expect(r.stderr, road).toBe('');
        if (json) expect(JSON.parse(r.stdout), road).toEqual({ ok: true, running: false, pid });
        else expect(r.stdout, road).toBe(`osvd: daemon stopped (pid ${pid})\n`);
        // Gone when the command returns, not only asked to go.
        expect(isAlive(pid), road).toBe(false);
        expect(JSON.parse(osvd(root, ['status', '--json']).stdout).daemon.running, road).toBe(false);
      }
    }
    const none = Object.values(roads).map((args) => osvd(root, ['stop', ...args]));
    expect(none.map((r) => r.code)).toEqual([0, 0]);
    expect(none[0]!.stdout).toBe('osvd: no daemon runs for this tree\n');
    expect(none[1]!.stdout).toBe(none[0]!.stdout);
  }, 180_000);
});
