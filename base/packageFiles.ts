import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files of the osvd package itself, found from wherever the running code lies: tsc's dist/ (a module
 * per source file, folders deep), the bundle (dist/bundle/, a few chunks side by side), or the sources
 * under vitest. A path relative to one module's own URL holds in only one of those layouts.
 */

let root: string | undefined;

/** The package's folder: the nearest folder above the running code that holds bin/osvd.js. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'bin', 'osvd.js')) && fs.existsSync(path.join(dir, 'package.json'))) return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`osvd's own folder (with bin/osvd.js) is not above ${start}`);
  }
}

/** The command line that runs osvd (the daemon is started with it). */
export function osvdBin(): string {
  return path.join(packageRoot(), 'bin', 'osvd.js');
}

/** The module a config's `import ... from 'osvd'` loads, and the types that describe it (tsc's output). */
export const CONFIG_MODULE = path.join('dist', 'osv', 'config.js');
export const CONFIG_TYPES = path.join('dist', 'osv', 'config.d.ts');
