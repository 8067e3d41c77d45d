import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runTorture } from '../bench/torture.js';
import { build, copyExample, OUT, osvd, osvdEnv, ranOf, removeCopies, restoredOf, sha, startDaemon, status, stopDaemons, storeBlobs } from './helpers.js';

/** Faults and bad input: crashes, a full disk, a corrupt store, broken depfiles, hostile requests. */
afterEach(stopDaemons);
afterAll(removeCopies);

const SCHED = `${OUT}/core/sched.o`;

describe('crash safety', () => {
  it('survives SIGKILL at random moments of builds (5 torture rounds): outputs as a clean build, database intact, nothing wrongly trusted', async () => {
    const lines: string[] = [];
    const result = await runTorture({ rounds: 5, seed: 20261127, variants: [[], ['conf_drivers_profile=virtio-mmio']], log: (l) => lines.push(l) });
    expect(result.rounds.flatMap((r) => r.problems.map((p) => `round ${r.round}: ${p}`)), lines.join('\n')).toEqual([]);
    expect(result.survived).toBe(5);
    expect(lines.at(-1)).toMatch(/^rounds survived: 5\/5/);
  }, 900_000);

  it('a full disk skips caching and restoring, a corrupt store entry is caught by its hash: the build never fails for the store', () => {
    const root = copyExample();
    const full = { OSVD_STORE_FAIL: 'ENOSPC' };
    // Nothing can be written to the store: the build succeeds, the store stays empty, the log says why.
    const first = JSON.parse(osvdEnv(root, ['build', '--json'], full).stdout);
    expect(first.ok).toBe(true);
    expect(storeBlobs(root).size).toBe(0);
    expect(fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8')).toMatch(/ENOSPC: simulated[\s\S]*the store could not keep or restore/);
    // Nothing was cached, so a deleted object is compiled again (and now cached).
    const good = fs.readFileSync(path.join(root, SCHED));
    fs.rmSync(path.join(root, SCHED));
    const second = build(root);
    expect(ranOf(second)).toEqual([SCHED]);
    expect(storeBlobs(root).has(sha(path.join(root, SCHED)))).toBe(true);
    // The disk fills up again: the restore fails and the compile runs instead.
    fs.rmSync(path.join(root, SCHED));
    const third = JSON.parse(osvdEnv(root, ['build', '--json'], full).stdout);
    expect(third.ok).toBe(true);
    expect(third.restored).toEqual([]);
    expect(third.ran.map((e: { output: string }) => e.output)).toEqual([SCHED]);
    // A blob whose bytes rotted: detected by its hash at restore, dropped, and the compile reruns.
    const blob = storeBlobs(root).get(sha(path.join(root, SCHED)))!;
    const rotten = Buffer.from(good);
    rotten[rotten.length >> 1] ^= 0xff;
    fs.writeFileSync(blob, rotten);
    fs.rmSync(path.join(root, SCHED));
    const fourth = build(root);
    expect(fourth.ok).toBe(true);
    expect(restoredOf(fourth)).toEqual([]);
    expect(ranOf(fourth)).toEqual([SCHED]);
    expect(fs.readFileSync(path.join(root, SCHED)).equals(good)).toBe(true);
    // The store holds the right bytes again.
    expect(fs.readFileSync(storeBlobs(root).get(sha(path.join(root, SCHED)))!).equals(good)).toBe(true);
  });

  it('a depfile a crash cut short is removed and its compile restored or rerun; one naming deleted headers reruns its TU', () => {
    const root = copyExample();
    fs.mkdirSync(path.join(root, 'include/extra'));
    fs.writeFileSync(path.join(root, 'include/extra/gone.h'), '#define OSVD_GONE 1\n');
    const tu = path.join(root, 'core/debug.cc');
    const original = fs.readFileSync(tu, 'utf8');
    fs.writeFileSync(tu, `${original}\n#include "extra/gone.h"\nint osvd_gone() { return OSVD_GONE; }\n`);
    expect(build(root).ok).toBe(true);
    // Half a depfile, as a killed compiler leaves it: make itself cannot read the Makefile then.
    const dep = path.join(root, OUT, 'core/sched.d');
    const text = fs.readFileSync(dep, 'utf8');
    fs.writeFileSync(dep, text.slice(0, text.length >> 1).replace(/\\\n[^\\]*$/, '\n garbage ( without a rule\n'));
    expect(spawnSync('make', ['-n'], { cwd: root, encoding: 'utf8' }).stderr).toMatch(/sched\.d.*\*\*\*/);
    const r = build(root, 'conf_drivers_profile=virtio-mmio');
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect([...ranOf(r), ...restoredOf(r)]).toContain(SCHED);
    expect(fs.readFileSync(dep, 'utf8')).toBe(text);
    // The header the depfile names is deleted, and the TU no longer includes it: only that TU and the link run.
    fs.rmSync(path.join(root, 'include/extra'), { recursive: true });
    fs.writeFileSync(tu, `${original}\nint osvd_gone() { return 1; }\n`);
    const after = build(root, 'conf_drivers_profile=virtio-mmio');
    expect(after.ok).toBe(true);
    expect(ranOf(after, 'compile')).toEqual([`${OUT}/core/debug.o`]);
    expect(build(root, 'conf_drivers_profile=virtio-mmio').ran).toEqual([]);
  });
});
