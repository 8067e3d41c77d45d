import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../base/process.js';
import { build, buildEnv, copyExample, gatedCompilers, OUT, osvd, osvdEnv, ranOf, removeCopies, sha, spawnOsvd, startDaemon, status, stopDaemons, waitFor, type Gate } from './helpers.js';

/**
 * Who builds in a tree, and what stops a build: one build per tree at a time (whatever process runs
 * it), Ctrl-C and a client that goes away, compilers a killed osvd left running, `osvd stop`.
 * Compilers wait at a gate (helpers.ts), so "while compilers run" needs no timing.
 */
afterEach(stopDaemons);
afterAll(removeCopies);

/** The objects that include drivers_config.h: they differ between the profiles. */
const INCLUDERS = [`${OUT}/arch/x64/arch-setup.o`, `${OUT}/loader.o`];
const BASE = 'conf_drivers_profile=base';
const MMIO = 'conf_drivers_profile=virtio-mmio';

/** The includers as a clean `base` build in this very folder makes them (debug info names the folder); the tree is then clean again. */
function cleanBaseObjects(root: string): string[] {
  expect(build(root, BASE).ok).toBe(true);
  const objects = INCLUDERS.map((o) => sha(path.join(root, o)));
  expect(osvd(root, ['clean', '--all']).code).toBe(0);
  return objects;
}

/** Wait until compiles are held at the gate. */
function compilesAtGate(gate: Gate): Promise<number[]> {
  return waitFor('compiles at the gate', () => (gate.started().length > 0 ? gate.started() : undefined));
}

const alive = (pids: number[]): number[] => pids.filter(isAlive);

describe('one build per tree at a time', () => {
  it('two one-shot builds at once: the second waits and says for whom (stopped, how to continue it); the objects are a clean build\'s', async () => {
    const root = copyExample();
    const clean = cleanBaseObjects(root);
    const gate = gatedCompilers();
    const first = spawnOsvd(root, ['build', '--no-daemon', '--quiet', '--set', MMIO], { PATH: gate.path });
    await compilesAtGate(gate);
    // Stopped as by Ctrl-Z, it holds the lock until continued: the waiting build says so.
    process.kill(first.pid, 'SIGSTOP');
    const second = spawnOsvd(root, ['build', '--no-daemon', '--quiet', '--set', BASE]);
    const said = await waitFor('the second build to wait', () => /osvd: waiting for the build of pid (\d+) \((.*)\), building since \d\d:\d\d:\d\d(.*)\n/.exec(second.stderr()) ?? undefined);
    expect(Number(said[1])).toBe(first.pid);
    expect(said[2]).toBe(`osvd build --no-daemon --quiet --set ${MMIO} --root ${root}`);
    expect(said[3]).toBe(`; it is stopped (Ctrl-Z?): fg in its terminal, or kill -CONT ${first.pid}`);
    process.kill(first.pid, 'SIGCONT');
    gate.open();
    expect((await first.done).code).toBe(0);
    expect((await second.done).code).toBe(0);
    const third = build(root, BASE);
    expect(third.ok).toBe(true);
    expect(ranOf(third)).toEqual([]);
    expect(INCLUDERS.map((o) => sha(path.join(root, o)))).toEqual(clean);
  });

  it('a one-shot build beside the daemon waits for the daemon\'s build, and the daemon for a one-shot build', async () => {
    const root = copyExample();
    const clean = cleanBaseObjects(root);
    const gate = gatedCompilers();
    const daemon = startDaemon(root, { PATH: gate.path });
    const viaDaemon = spawnOsvd(root, ['build', '--quiet', '--set', MMIO], { PATH: gate.path });
    await compilesAtGate(gate);
    const oneShot = spawnOsvd(root, ['build', '--no-daemon', '--quiet', '--set', BASE]);
    await waitFor('the one-shot build to wait', () => oneShot.stderr().includes(`waiting for the build of pid ${daemon} (osvd daemon (pid ${daemon}): build --set ${MMIO})`));
    gate.open();
    expect((await viaDaemon.done).code).toBe(0);
    expect((await oneShot.done).code).toBe(0);
    expect(INCLUDERS.map((o) => sha(path.join(root, o)))).toEqual(clean);
    osvd(root, ['stop']);

    // The other way round: a one-shot build holds the tree (knobs that compile everything again), a
    // build through the daemon waits.
    const gate2 = gatedCompilers();
    startDaemon(root);
    const holder = spawnOsvd(root, ['build', '--no-daemon', '--quiet', '--set', 'conf_hide_symbols=1'], { PATH: gate2.path });
    await compilesAtGate(gate2);
    const client = spawnOsvd(root, ['build', '--set', BASE]);
    await waitFor('the daemon\'s build to wait', () => client.stderr().includes(`waiting for the build of pid ${holder.pid} (osvd build --no-daemon --quiet --set conf_hide_symbols=1`));
    gate2.open();
    expect((await holder.done).code).toBe(0);
    expect((await client.done).code).toBe(0);
    expect(INCLUDERS.map((o) => sha(path.join(root, o)))).toEqual(clean);
    expect(ranOf(build(root, BASE))).toEqual([]);
  });
});

describe('stopping a build', () => {
  it('Ctrl-C on osvd build through the daemon stops that build, kills its compilers and records nothing partial', async () => {
    const root = copyExample();
    const gate = gatedCompilers();
    const daemon = startDaemon(root, { PATH: gate.path });
    const client = spawnOsvd(root, ['build'], { PATH: gate.path });
    const held = await compilesAtGate(gate);
    // A second client whose build waits its turn: its Ctrl-C drops that build at once, the first goes on.
    const queued = spawnOsvd(root, ['build', '--set', 'conf_hide_symbols=1'], { PATH: gate.path });
    await waitFor('the second build to wait its turn', () => queued.stderr().includes(`osvd: waiting for the build of pid ${daemon} (osvd daemon (pid ${daemon}): build)`));
    process.kill(queued.pid, 'SIGINT');
    expect((await queued.done).code).toBe(130);
    expect(alive(held)).toEqual(held);
    process.kill(client.pid, 'SIGINT');
    const r = await client.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/osvd: interrupted: the build was stopped and its commands killed\n$/);
    // The client returns once the daemon's build has stopped: its compilers are gone, nothing more runs.
    expect(alive(held)).toEqual([]);
    const s = status(root);
    expect(s.building).toBeNull();
    expect(s.builds).toBe(0);
    // What the interrupted compiles would have written is not there, and not recorded: they run next time.
    const interrupted = held.length;
    expect(interrupted).toBeGreaterThan(0);
    gate.open();
    const again = buildEnv(root, { PATH: gate.path });
    expect(again.ok).toBe(true);
    expect(ranOf(again, 'compile').length).toBe(s.graph.byKind.compile);
    expect(ranOf(buildEnv(root, { PATH: gate.path }))).toEqual([]);
  });

  it('a client that goes away (SIGKILL) stops its build too; --detach builds on without its client', async () => {
    const root = copyExample();
    const gate = gatedCompilers();
    startDaemon(root, { PATH: gate.path });
    const client = spawnOsvd(root, ['build'], { PATH: gate.path });
    const held = await compilesAtGate(gate);
    process.kill(client.pid, 'SIGKILL');
    await client.done;
    await waitFor('the compilers of the abandoned build to be killed', () => alive(held).length === 0 && status(root).building === null);
    expect(status(root).builds).toBe(0);

    const detached = osvdEnv(root, ['build', '--detach', '--json'], { PATH: gate.path });
    expect(detached.code).toBe(0);
    expect(JSON.parse(detached.stdout)).toMatchObject({ ok: true, detached: true, via: 'daemon' });
    await waitFor('the detached build to reach the gate', () => gate.started().length > held.length);
    expect(status(root).building).not.toBeNull();
    gate.open();
    const s = await waitFor('the detached build to finish', () => {
      const st = status(root);
      return st.builds === 1 && !st.building ? st : undefined;
    });
    expect(s.lastBuild?.ok).toBe(true);
    expect(s.dirty.run + s.dirty.restore + s.dirty.pending).toBe(0);
  });

  it('Ctrl-C during real compiles: g++ ends on SIGTERM, before SIGKILL, and leaves nothing in $TMPDIR', async () => {
    const root = copyExample();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-tmpdir-'));
    try {
      const run = spawnOsvd(root, ['build', '--no-daemon', '-j2'], { TMPDIR: tmp });
      // cc1plus writes its assembly to a temporary file of the driver's, in $TMPDIR: a compile is under way.
      await waitFor('a compile to write its assembly', () => fs.readdirSync(tmp).some((n) => n.endsWith('.s')));
      process.kill(run.pid, 'SIGINT');
      const r = await run.done;
      expect(r.code).toBe(130);
      // SIGKILL would have left each running compile's `.s`. (The example's generator scripts leave their
      // mktemp files when a signal ends them, as they would under make: not gcc's, not looked at.)
      expect(fs.readdirSync(tmp).filter((n) => n.startsWith('cc'))).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s of a one-shot build kills its compilers and exits %i', async (signal, code) => {
    const root = copyExample();
    const gate = gatedCompilers();
    const run = spawnOsvd(root, ['build', '--no-daemon'], { PATH: gate.path });
    const held = await compilesAtGate(gate);
    process.kill(run.pid, signal);
    const r = await run.done;
    expect(r.code).toBe(code);
    expect(alive(held)).toEqual([]);
    // Every compile was held at the gate, so none is recorded: each one runs the next time.
    gate.open();
    const again = build(root);
    expect(again.ok).toBe(true);
    expect(ranOf(again, 'compile').length).toBe(status(root).graph.byKind.compile);
  });
});

describe('compilers left running by a killed osvd', () => {
  it('a one-shot osvd killed with SIGKILL: the next osvd kills its compilers before it trusts anything', async () => {
    const root = copyExample();
    const clean = cleanBaseObjects(root);
    const gate = gatedCompilers();
    const killed = spawnOsvd(root, ['build', '--no-daemon', '--quiet', '--set', MMIO], { PATH: gate.path });
    const orphans = await compilesAtGate(gate);
    process.kill(killed.pid, 'SIGKILL');
    await killed.done;
    expect(alive(orphans)).toEqual(orphans);
    const next = build(root, BASE);
    expect(next.ok).toBe(true);
    expect(alive(orphans)).toEqual([]);
    // Had they lived on, they would write their virtio-mmio objects now, over what the base build recorded.
    gate.open();
    expect(ranOf(build(root, BASE))).toEqual([]);
    expect(INCLUDERS.map((o) => sha(path.join(root, o)))).toEqual(clean);
  });

  it('a daemon killed with SIGKILL mid-build: the next daemon kills its compilers when it starts', async () => {
    const root = copyExample();
    const gate = gatedCompilers();
    const daemon = startDaemon(root, { PATH: gate.path });
    const client = spawnOsvd(root, ['build', '--set', MMIO], { PATH: gate.path });
    const orphans = await compilesAtGate(gate);
    process.kill(daemon, 'SIGKILL');
    await client.done;
    await waitFor('the killed daemon to be gone', () => !isAlive(daemon));
    expect(alive(orphans)).toEqual(orphans);
    startDaemon(root);
    expect(alive(orphans)).toEqual([]);
    gate.open();
    expect(build(root, BASE).ok).toBe(true);
    expect(ranOf(build(root, BASE))).toEqual([]);
  });
});

describe('osvd stop', () => {
  it('during a build: the build is interrupted, its compilers killed, and "daemon stopped" means the process has exited', async () => {
    const root = copyExample();
    const gate = gatedCompilers();
    const pid = startDaemon(root, { PATH: gate.path });
    const client = spawnOsvd(root, ['build'], { PATH: gate.path });
    const held = await compilesAtGate(gate);
    const r = osvd(root, ['stop']);
    expect((await client.done).stderr).toMatch(/the daemon is stopping: its build was interrupted/);
    expect(r.stdout).toBe(`osvd: daemon stopped (pid ${pid})\n`);
    expect(isAlive(pid)).toBe(false);
    expect(alive(held)).toEqual([]);
    expect(fs.existsSync(path.join(root, 'build/.osvd/osvd.sock'))).toBe(false);
    // A start right after finds the tree free.
    gate.open();
    const again = startDaemon(root);
    expect(again).not.toBe(pid);
    expect(build(root).ok).toBe(true);
  });
});
