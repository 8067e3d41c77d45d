import fs from 'node:fs';

/**
 * Rename `from` (a file in a process's scratch folder) to `to`; across file systems (EXDEV: a state
 * folder configured elsewhere), copy next to `to` first and rename there.
 */
export function moveInto(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const near = `${to}.osvd-tmp-${process.pid}`;
    try {
      fs.copyFileSync(from, near);
      fs.chmodSync(near, fs.statSync(from).mode & 0o7777);
      fs.renameSync(near, to);
    } finally {
      fs.rmSync(near, { force: true });
      fs.rmSync(from, { force: true });
    }
  }
}
