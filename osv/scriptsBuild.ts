import fs from 'node:fs';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import type { Knobs } from './knobs.js';

/**
 * What OSv's scripts/build does beside make for the files the kernel is built from. With fs=ramfs the
 * kernel's bootfs is the image's own manifest (`$OUT/usr.manifest`, which scripts/module.py writes and
 * the fs knob's check asks for), and that manifest names `/etc/fstab: fstab`: scripts/build copies
 * static/etc/fstab to `$OUT/fstab` before it runs make. osvd makes the copy an action and an input of
 * bootfs.bin, so that the kernel follows an edited fstab. The other copies scripts/build makes (fs=ext's
 * fstab_ext, rofs's fstab_rofs) go into the image beside the kernel, not into it.
 */
const RAMFS_FSTAB = 'static/etc/fstab';

export interface KernelFileCopy {
  readonly action: Action;
  /** The action that reads the copy (bootfs.bin). */
  readonly reader: string;
}

export function kernelFileCopies(root: string, knobs: Pick<Knobs, 'fs'>, outDir: string, env: Readonly<Record<string, string>>): KernelFileCopy[] {
  if (knobs.fs !== 'ramfs' || !fs.existsSync(path.join(root, RAMFS_FSTAB))) return [];
  const copy = `${outDir}/fstab`;
  return [
    {
      action: {
        id: copy,
        kind: 'other',
        commands: [`mkdir -p ${outDir}`, `cp ${RAMFS_FSTAB} ${copy}`],
        cwd: '.',
        env,
        keyEnv: {},
        inputs: [RAMFS_FSTAB],
        orderAfter: [],
        outputs: [copy],
      },
      reader: `${outDir}/bootfs.bin`,
    },
  ];
}
