import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appendTo, copyExample, osvd, removeCopies, spawnOsvd, startDaemon, status, stopDaemons, waitFor, type BuildJson } from './helpers.js';

afterEach(stopDaemons);
afterAll(removeCopies);

/** Each line osvd printed on stderr that says what it waits for. */
const waitingLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('osvd: waiting'));

/**
 * A built example tree whose daemon holds each plan it makes once the gate file is removed (it is
 * there at first: the daemon starts and the tree is built without waiting).
 */
function builtBehindOpenGate(): { root: string; gate: string } {
  const root = copyExample();
  const gate = path.join(root, 'plan-gate');
  fs.writeFileSync(gate, '');
  startDaemon(root, { OSVD_PAUSE_AT: `plan-made:${gate}` });
  expect((JSON.parse(osvd(root, ['build', '--json']).stdout) as BuildJson).ok).toBe(true);
  return { root, gate };
}

describe('the daemon while it makes a plan', () => {
  it('a request made while the daemon starts is told what the daemon does, then answered', async () => {
    const root = copyExample();
    const gate = path.join(root, 'plan-gate');
    // The daemon holds its first plan, made, until the gate exists.
    const pid = startDaemon(root, { OSVD_PAUSE_AT: `plan-made:${gate}` });
    const asking = spawnOsvd(root, ['status']);
    const told = (step: string): string => `osvd: waiting for the daemon (pid ${pid}) to start: ${step}`;
    const steps = ['asking the watcher where the tree stands', 'loading the graph (importing the makefiles unless they are known)', 'deciding what is stale', 'starting the watch'].map(told);
    await waitFor('status to say the plan is being made', () => fs.existsSync(`${gate}.reached`) && waitingLines(asking.stderr()).at(-1) === steps[2]);
    let answered = false;
    void asking.done.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    fs.writeFileSync(gate, '');
    const r = await asking.done;
    expect(r.code).toBe(0);
    // Never built: every action is stale, and the answer says so once the plan is in place.
    expect(r.stdout).toMatch(/^state: \d+ stale: /m);
    // The steps it was told, in their order, each once: from the one the daemon was at when asked.
    const lines = waitingLines(r.stderr);
    const first = steps.indexOf(lines[0]!);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(2);
    expect(lines).toEqual(steps.slice(first, first + lines.length));
    expect(lines).toContain(steps[2]);
    // A started daemon answers at once: no waiting said.
    const again = osvd(root, ['status']);
    expect(again.code).toBe(0);
    expect(waitingLines(again.stderr)).toEqual([]);
  }, 120_000);

  it('osvd stop while the daemon makes its first plan stops it without waiting for the plan', async () => {
    const root = copyExample();
    const gate = path.join(root, 'plan-gate');
    const pid = startDaemon(root, { OSVD_PAUSE_AT: `plan-made:${gate}` });
    await waitFor('the first plan to be made', () => fs.existsSync(`${gate}.reached`));
    // The gate never opens (the pause would last two minutes): the stop ends the daemon anyway.
    const stopped = osvd(root, ['stop']);
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toBe(`osvd: daemon stopped (pid ${pid})\n`);
    expect(stopped.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'build/.osvd/daemon.json'))).toBe(false);
    expect(osvd(root, ['status', '--json']).code).toBe(0);
  }, 120_000);

  it('a file that changes while a new plan is made is in that plan', async () => {
    const { root, gate } = builtBehindOpenGate();
    expect(status(root).dirty.run).toBe(0);
    // `osvd set` makes a new plan (here for the knobs the tree has already); it is held once made.
    fs.rmSync(gate);
    const refreshing = spawnOsvd(root, ['set', 'conf_drivers_profile=all']);
    await waitFor('the new plan to be made', () => fs.existsSync(`${gate}.reached`));
    appendTo(root, 'core/sched.cc', '\nint osvd_test_edit_while_planning;\n');
    // A dry run takes in every file event that came before it (the watcher's cookie).
    expect(osvd(root, ['build', '-n']).code).toBe(0);
    fs.writeFileSync(gate, '');
    expect((await refreshing.done).code).toBe(0);
    // The new plan decided sched.o before the edit: the edit is taken in when the plan is put in place.
    const why = JSON.parse(osvd(root, ['why', '--json', 'build/release.x64/core/sched.o']).stdout) as { state: string };
    expect(why.state).toBe('run');
    expect(status(root).dirty.run).toBe(1);
    const again = JSON.parse(osvd(root, ['build', '--json']).stdout) as BuildJson;
    expect(again.ok).toBe(true);
    expect(again.ran.filter((e) => e.kind === 'compile').map((e) => e.output)).toEqual(['build/release.x64/core/sched.o']);
  }, 120_000);

  it('while the plan is made again after a build for other knobs, status says so, with the last counts', async () => {
    const { root, gate } = builtBehindOpenGate();
    expect(status(root).daemon.replanning).toBeNull();
    // The build for the other profile rewrites drivers_config.h and objects the live profile shares:
    // the daemon makes the live plan again before it answers; that plan is held once made.
    fs.rmSync(gate);
    const switching = spawnOsvd(root, ['build', '--set', 'conf_drivers_profile=virtio-mmio']);
    await waitFor('the plan after the build to be made', () => fs.existsSync(`${gate}.reached`));
    const why = 'a build for other knobs (--set conf_drivers_profile=virtio-mmio) rewrote outputs these share';
    const during = status(root);
    expect(during.daemon.replanning).toBe(why);
    expect(during.daemon.reimporting).toBeNull();
    // The counts shown are the last plan's (up to date), and the text says they are.
    expect(during.dirty.run + during.dirty.restore + during.dirty.pending).toBe(0);
    const text = osvd(root, ['status']).stdout;
    expect(text).toContain(`state: deciding again what is stale (${why}); the counts are the last plan's\n`);
    expect(text).not.toContain('state: up to date');
    fs.writeFileSync(gate, '');
    expect((await switching.done).code).toBe(0);
    const after = status(root);
    expect(after.daemon.replanning).toBeNull();
    // The new plan sees what the other profile's build rewrote: the live profile's header at least.
    expect(after.dirty.run + after.dirty.restore + after.dirty.pending).toBeGreaterThan(0);
  }, 120_000);
});
