import fs from 'node:fs';
import path from 'node:path';

/** The config's name, in the tree's top folder (or named by `--config`). */
export const CONFIG_FILE_NAME = 'osv.config.ts';

/**
 * The folder a command without `--root` or `--config` works in, as git finds its repository: the
 * current folder when it holds osv.config.ts or a Makefile (as before: a tree's top, or a folder of
 * its own such as OSv's conf/ or a module), else the nearest folder above that holds either (from
 * core/ or drivers/, the checkout's top), else the current folder, whose missing Makefile is then the
 * error. The nearest one wins: a fresh clone inside a folder with a config is its own tree. The
 * short road (daemon/quick.ts) and the full CLI find the same folder; paths a command names (targets,
 * `osvd why`) stay relative to the current folder.
 */
export function treeFolder(cwd: string): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, CONFIG_FILE_NAME)) || fs.existsSync(path.join(dir, 'Makefile'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}
