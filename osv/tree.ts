import fs from 'node:fs';
import path from 'node:path';
import { ImportError } from './errors.js';
import type { Knobs } from './knobs.js';

/** Facts about an OSv(-shaped) tree that knobs are checked against. */
export interface TreeFacts {
  readonly root: string;
  readonly makefile: string;
  /** The make variable that selects the drivers profile: `conf_drivers_profile`, or `drivers_profile` in older trees. */
  readonly profileVariable: 'conf_drivers_profile' | 'drivers_profile';
  /** Variables the Makefile computes with `$(shell ...)` each time they are expanded, worth expanding once (CXX_INCLUDES). */
  readonly precompute: readonly string[];
  /** Whether this is OSv's kernel Makefile (it links lzloader.elf), rather than a tree of another shape. */
  readonly isOsvKernel: boolean;
  /** Whether the Makefile builds zfs_builder-stripped.elf, the kernel that writes a ZFS image (make's `all` with fs=zfs). */
  readonly hasZfsBuilder: boolean;
  /** Whether the Makefile builds libsolaris.so (ZFS as a shared library beside the kernel). */
  readonly hasZfsLibrary: boolean;
  profilesFor(arch: string): string[];
}

/** Variables known to be costly to expand: OSv's runs `g++ -E -v` for every compile command. */
const PRECOMPUTE_CANDIDATES = ['CXX_INCLUDES'];

/**
 * The goals osvd builds in an OSv kernel tree when the config names none: what `./scripts/build` makes
 * with make's `all`, up to the kernel image files. loader.img (and usr.img after it) need qemu's tools
 * and are left out; lzloader.elf, which loader.img is made from, is built instead. With fs=zfs, `all`
 * also makes zfs_builder-stripped.elf (the kernel scripts/build runs to write the ZFS image) and the
 * kernel's bootfs carries libsolaris.so.
 */
export function kernelGoals(knobs: Pick<Knobs, 'arch' | 'fs'>, outDir: string, tree?: Pick<TreeFacts, 'hasZfsBuilder' | 'hasZfsLibrary'>): string[] {
  const goals = knobs.arch === 'aarch64' ? [`${outDir}/loader-stripped.elf`] : [`${outDir}/lzloader.elf`, `${outDir}/vmlinuz.bin`];
  if (knobs.fs === 'zfs' && (tree?.hasZfsLibrary ?? true)) {
    goals.push(`${outDir}/libsolaris.so`);
    if (tree?.hasZfsBuilder && knobs.arch !== 'aarch64') goals.push(`${outDir}/zfs_builder-stripped.elf`);
  }
  return goals;
}

export function readTree(root: string): TreeFacts {
  const makefile = path.join(root, 'Makefile');
  let text: string;
  try {
    text = fs.readFileSync(makefile, 'utf8');
  } catch (err) {
    throw new ImportError(`no Makefile in ${root}`, {
      file: makefile,
      cause: err,
      hint: 'point --root (or `root` in osv.config.ts) at the top of an OSv checkout',
    });
  }
  const profileVariable = /\bconf_drivers_profile\b/.test(text) ? 'conf_drivers_profile' : 'drivers_profile';
  const precompute = PRECOMPUTE_CANDIDATES.filter((v) => new RegExp(`^${v}\\s*=\\s*\\$\\(shell\\b`, 'm').test(text));
  return {
    root,
    makefile,
    profileVariable,
    precompute,
    isOsvKernel: /^\$\(out\)\/lzloader\.elf\s*:/m.test(text) || /^\$\(out\)\/loader-stripped\.elf\s*:/m.test(text) && /^\$\(out\)\/loader\.img\s*:/m.test(text),
    hasZfsBuilder: /^\$\(out\)\/zfs_builder-stripped\.elf\s*:/m.test(text),
    hasZfsLibrary: /^\$\(out\)\/libsolaris\.so\s*:/m.test(text),
    profilesFor(arch: string): string[] {
      const dir = path.join(root, 'conf', 'profiles', arch);
      try {
        return fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.mk'))
          .map((f) => f.slice(0, -3))
          .sort();
      } catch {
        return [];
      }
    },
  };
}

/** The build folder make writes to, as OSv's Makefile defines it: build/<mode>.<arch>. */
export function outDirOf(knobs: Pick<Knobs, 'mode' | 'arch'>): string {
  return `build/${knobs.mode}.${knobs.arch}`;
}
