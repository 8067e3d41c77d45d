import fs from 'node:fs';
import path from 'node:path';
import { notedGroups, stopGroupsSync } from '../base/jobGroups.js';
import { isAlive, startTime } from '../base/process.js';

/**
 * A private scratch folder per process, `<stateDir>/tmp/<pid>`, for files on their way to their final
 * name (restores, store entries, command output). It lives in the state folder so that a rename from
 * it to the build folder stays on one file system, and so that what a killed process left behind is
 * found and removed by the next one (sweepScratch): never stray temporary files among the outputs.
 * It also notes the process groups of the process's build commands (base/jobGroups.ts), so that what
 * a killed process left running is killed by the next one.
 */
export function openScratch(stateDir: string): string {
  const dir = path.join(stateDir, 'tmp', String(process.pid));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, OWNER), startTime(process.pid) ?? '');
  return dir;
}

/** Names the folder's process by its start time too: a pid reused by another process is not it. */
const OWNER = 'owner';

/**
 * Remove what processes that are gone left in the scratch folders, after killing the build commands
 * they left running (and waiting until those are gone). Returns how many process groups were killed:
 * when there were any, outputs may have changed under whoever looked at them before.
 */
export function sweepScratch(stateDir: string): number {
  const parent = path.join(stateDir, 'tmp');
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  let killed = 0;
  for (const name of fs.readdirSync(parent)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    const dir = path.join(parent, name);
    if (isAlive(pid) && ownerStart(dir) === startTime(pid)) continue;
    killed += stopGroupsSync(notedGroups(dir)).length;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return killed;
}

/** The start time noted by the folder's process; when it noted none, the pid's own (trust the pid). */
function ownerStart(dir: string): string | undefined {
  let noted = '';
  try {
    noted = fs.readFileSync(path.join(dir, OWNER), 'utf8');
  } catch {
    // not written yet (the process is starting), or by an older osvd
  }
  return noted || startTime(Number(path.basename(dir)));
}

export function closeScratch(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
