import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** What the torture and the tests compare builds by: files' SHA-256, by path. */

export function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface HashTreeOptions {
  /**
   * A folder that cannot be read counts as empty instead of throwing: the torture reports a build
   * folder a crash left without as missing files; a test wants the error.
   */
  readonly unreadableIsEmpty?: boolean;
}

/** Every regular file under `dir`, relative to it, with its hash; `skip` names paths not to enter or hash. */
export function hashTree(dir: string, skip: (rel: string) => boolean = () => false, options: HashTreeOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch (err) {
      if (options.unreadableIsEmpty) return;
      throw err;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.set(r, sha(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}
