import fs from 'node:fs';
import path from 'node:path';

/**
 * Learning what an action wrote when its recipe does not name every file (a script that writes into
 * a folder, `cd $(out); tool`): every file under the build folders, with a stat signature, just
 * before the action starts and just after it ends. What appeared or changed in between, and is no
 * other action's output, is this action's. See the builder for why that is exact.
 */
export type FolderSnapshot = ReadonlyMap<string, string>;

/**
 * Every file and symbolic link under `folders` (relative to `root`), by path relative to the root,
 * with a signature that changes when the file is written: size, modification and change times, inode.
 * `skip` leaves out a folder (osvd's own state) with everything under it.
 */
export function snapshotFolders(root: string, folders: readonly string[], skip: (rel: string) => boolean = () => false): FolderSnapshot {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return; // not there (yet), or gone
    }
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (skip(p)) continue;
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      try {
        const st = fs.lstatSync(path.join(root, p), { bigint: true });
        out.set(p, `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`);
      } catch {
        // removed while we looked: not written
      }
    }
  };
  for (const f of folders) if (!skip(f)) walk(f);
  return out;
}

/** Files that appeared or changed between two snapshots, sorted. */
export function writtenBetween(before: FolderSnapshot, after: FolderSnapshot): string[] {
  const written: string[] = [];
  for (const [p, sig] of after) if (before.get(p) !== sig) written.push(p);
  return written.sort();
}
