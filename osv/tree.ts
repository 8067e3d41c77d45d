import fs from 'node:fs';
import path from 'node:path';
import { ImportError } from './errors.js';

/** Facts about an OSv(-shaped) tree that knobs are checked against. */
export interface TreeFacts {
  readonly root: string;
  readonly makefile: string;
  /** The make variable that selects the drivers profile: `conf_drivers_profile`, or `drivers_profile` in older trees. */
  readonly profileVariable: 'conf_drivers_profile' | 'drivers_profile';
  profilesFor(arch: string): string[];
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
  return {
    root,
    makefile,
    profileVariable,
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
export function outDirOf(knobs: Readonly<Record<string, string>>): string {
  return `build/${knobs.mode}.${knobs.arch}`;
}
