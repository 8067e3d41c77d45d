import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prng } from '../bench/prng.js';
import { build, copyExample, make, osvd, ranOf, removeCopies } from './helpers.js';

/**
 * Idempotence over the knob space of the example tree: profile x hide symbols x app (none, inside the
 * tree, outside it) x fs x mode. For each combination visited, a build followed by a second build runs
 * nothing, and going back to any earlier combination compiles nothing (the store has it). The kernel
 * link osvd runs is make's for the same knobs (make's dry run is the reference for which objects).
 *
 * The whole product is 4 profiles x (1 + 3 app choices with hidden symbols) x 4 fs x 2 modes = 128
 * combinations; building each takes too long for CI, so a seeded generator picks STEPS of them (a
 * failure names the seed and the step) and every third step goes back to an earlier one.
 */
const SEED = 0x12c0ffee;
const STEPS = 10;
const PROFILES = ['all', 'base', 'virtio-pci', 'virtio-mmio'];
const FS = ['zfs', 'rofs', 'virtiofs', 'ramfs'];
const MODES = ['release', 'debug'];

interface Combination {
  profile: string;
  hide: '0' | '1';
  app: 'none' | 'inside' | 'outside';
  fs: string;
  mode: string;
}

afterAll(removeCopies);
const outside: string[] = [];
afterAll(() => {
  for (const d of outside.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the knob space of the example tree', () => {
  it(`a build then a second build runs nothing; going back compiles nothing (${STEPS} seeded combinations)`, () => {
    const root = copyExample();
    expect(make(root, ['-C', 'apps/hello']).code).toBe(0);
    const appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-app-'));
    outside.push(appDir);
    fs.copyFileSync(path.join(root, 'apps/hello/hello.so'), path.join(appDir, 'hello.so'));
    // fs=ramfs puts the image's manifest into the kernel (OSv's scripts/build writes it into the build folder).
    for (const mode of MODES) {
      fs.mkdirSync(path.join(root, `build/${mode}.x64`), { recursive: true });
      fs.writeFileSync(path.join(root, `build/${mode}.x64/usr.manifest`), '[manifest]\n/libenviron.so: libenviron.so\n');
    }

    const random = prng(SEED);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const sets = (c: Combination): string[] => {
      const s = [`conf_drivers_profile=${c.profile}`, `conf_hide_symbols=${c.hide}`, `fs=${c.fs}`, `mode=${c.mode}`];
      if (c.app === 'inside') s.push('app=apps/hello/hello.so');
      if (c.app === 'outside') s.push(`app=${path.join(appDir, 'hello.so')}`);
      return s;
    };
    const visited: Combination[] = [];
    for (let step = 0; step < STEPS; step++) {
      const where = `seed ${SEED.toString(16)}, step ${step}`;
      let c: Combination;
      const revisit = step % 3 === 2 && visited.length > 0;
      if (revisit) {
        c = pick(visited);
      } else {
        const hide = pick(['0', '1'] as const);
        c = { profile: pick(PROFILES), hide, app: hide === '1' ? pick(['none', 'inside', 'outside'] as const) : 'none', fs: pick(FS), mode: pick(MODES) };
      }
      const first = build(root, ...sets(c));
      expect(first.ok, `${where} ${JSON.stringify(c)}: ${JSON.stringify(first.failed)}`).toBe(true);
      if (revisit) expect(ranOf(first, 'compile'), `${where}: back to ${JSON.stringify(c)}`).toEqual([]);
      const second = build(root, ...sets(c));
      expect(second.ran.map((e) => `${e.output}: ${e.reason}`), `${where}: second build of ${JSON.stringify(c)}`).toEqual([]);
      expect(second.restored, where).toEqual([]);
      expect(kernelLink(root, c, sets(c)), `${where}: the kernel link against make's`).toBe(makeKernelLink(root, c, sets(c)));
      visited.push(c);
    }
  }, 1_200_000);
});

/** The command osvd last ran (or restored) for the kernel link. */
function kernelLink(root: string, c: Combination, s: string[]): string {
  const r = osvd(root, ['why', `build/${c.mode}.x64/loader.elf`, '--json', ...s.flatMap((x) => ['--set', x])]);
  expect(r.code, r.stderr).toBe(0);
  const commands = (JSON.parse(r.stdout) as { commands: string[] }).commands;
  return commands.find((l) => l.includes(' -o build/') && l.includes('loader.elf'))!.trim();
}

/** The command make would run for the kernel link with the same knobs. */
function makeKernelLink(root: string, c: Combination, s: string[]): string {
  const vars = s.filter((x) => !x.startsWith('app=') && !x.startsWith('fs='));
  if (c.app !== 'none') vars.push(`conf_version_script=build/${c.mode}.x64/app_version_script`);
  if (c.fs !== 'zfs') vars.push(`bootfs_manifest=${c.fs === 'ramfs' ? `build/${c.mode}.x64/usr.manifest` : 'bootfs_empty.manifest.skel'}`);
  vars.push(`fs=${c.fs}`);
  const r = spawnSync('make', ['-n', '-B', 'V=1', ...vars, `build/${c.mode}.x64/loader.elf`], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').find((l) => l.includes(' -o build/') && l.includes('loader.elf'))!.trim();
}
