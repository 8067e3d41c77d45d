import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../base/process.js';

/**
 * A private scratch folder per process, `<stateDir>/tmp/<pid>`, for files on their way to their final
 * name (restores, store entries, command output). It lives in the state folder so that a rename from
 * it to the build folder stays on one file system, and so that what a killed process left behind is
 * found and removed by the next one: never stray temporary files among the outputs.
 */
export function openScratch(stateDir: string): string {
  const parent = path.join(stateDir, 'tmp');
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  for (const name of fs.readdirSync(parent)) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
  const dir = path.join(parent, String(process.pid));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function closeScratch(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Rename `from` to `to`; across file systems (EXDEV), copy next to `to` first and rename there. */
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
