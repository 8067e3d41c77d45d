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

/**
 * The builder's side of open outputs. Why the result is exact although other actions run meanwhile:
 * an action whose outputs are all named (a compile: its object and depfile) writes nothing else, so
 * whatever changes under the build folders while an open action runs, and is no action's declared or
 * learned output, was written by an open action; and open actions run one at a time.
 */
export class OutputLearner {
  private running: string | undefined;

  constructor(
    private readonly root: string,
    private readonly folders: readonly string[],
    private readonly skip: (rel: string) => boolean,
  ) {}

  /** Whether the action may start now: an open action waits while another one runs. */
  mayStart(open: boolean): boolean {
    return !open || this.running === undefined || this.folders.length === 0;
  }

  /** Before an open action's commands start: the build folders as they are. */
  start(id: string): FolderSnapshot {
    this.running = id;
    return snapshotFolders(this.root, this.folders, this.skip);
  }

  /** After they ended: what changed since `start`, less what other actions own. */
  finish(id: string, before: FolderSnapshot, ownedByOther: (path: string) => boolean): string[] {
    if (this.running === id) this.running = undefined;
    return writtenBetween(before, snapshotFolders(this.root, this.folders, this.skip)).filter((p) => !ownedByOther(p));
  }

  /** Give the slot back without looking (the action failed to start). */
  release(id: string): void {
    if (this.running === id) this.running = undefined;
  }
}
