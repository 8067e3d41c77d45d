import fs from 'node:fs';

/** How often a daemon looks at its files (OSVD_CLAIM_CHECK_MS: a test that must stop a daemon itself sets it longer). */
const CHECK_MS = Number(process.env.OSVD_CLAIM_CHECK_MS) || 2000;

/**
 * A daemon's claim on its tree is its files in the state folder: daemon.json and the socket. Removed
 * (`rm -rf build`), moved with the tree, or replaced by a newer daemon's, they no longer lead a client
 * to this daemon, and another one may start for the tree: this one would watch, and hold its database,
 * for good. It stops instead, as watchman cancels a watch whose root is deleted. Each file is known
 * by its device, inode and change time: the same path may be another daemon's file by then, often
 * under the inode number the removed file had.
 */
export class ClaimWatch {
  private readonly owned = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  /** Note the files as they are now (just created by this daemon). */
  constructor(paths: readonly string[]) {
    for (const p of paths) this.owned.set(p, identity(p) ?? 'missing');
  }

  /** Whether the file at `p` is still the one this daemon made. */
  owns(p: string): boolean {
    const id = this.owned.get(p);
    return id !== undefined && id !== 'missing' && identity(p) === id;
  }

  /** The first of the files that is gone or another's; undefined while all are this daemon's. */
  lost(): string | undefined {
    for (const p of this.owned.keys()) if (!this.owns(p)) return p;
    return undefined;
  }

  /** Look every CHECK_MS (the timer keeps no process alive); `onLost` is called once. */
  start(onLost: (path: string) => void): void {
    this.timer = setInterval(() => {
      const gone = this.lost();
      if (gone === undefined) return;
      this.stop();
      onLost(gone);
    }, CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function identity(p: string): string | undefined {
  const st = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}:${st.ctimeNs}` : undefined;
}
