import fs from 'node:fs';

/**
 * Whether a process is alive: it exists and is not a zombie (a killed process nobody has reaped yet
 * exists, but writes nothing any more). Used for the daemon's pid file and for scratch folders left
 * by killed processes.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
