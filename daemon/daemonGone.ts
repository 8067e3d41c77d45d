import fs from 'node:fs';
import { OsvdError } from '../base/errors.js';
import { exited } from '../base/process.js';
import { daemonOutPath } from './locate.js';

/** How long a client waits for a daemon that dropped its connection to be gone, before saying so. */
const EXIT_WAIT_MS = 1_000;
/** What a client reads of the end of the daemon's output (its last words, when it died of an error). */
const TAIL_BYTES = 16 * 1024;

/**
 * The error a client's pending requests get when the daemon closed the connection without answering.
 * When the daemon has exited, it says so, with the error it died of as Node printed it to the daemon's
 * output file (`build/.osvd/daemon.out`: `SqliteError: database or disk is full`), and names the file.
 */
export async function daemonGoneError(pid: number, stateDir: string): Promise<OsvdError> {
  const base = 'the daemon closed the connection before answering';
  if (!(await exited(pid, EXIT_WAIT_MS))) return new OsvdError('DAEMON_GONE', base);
  const out = daemonOutPath(stateDir);
  const last = lastError(out);
  return new OsvdError('DAEMON_GONE', `${base}: it exited (pid ${pid})${last ? `: ${last}` : ''}`, { hint: `what it printed last is in ${out}` });
}

/** The last error line Node printed in `file` (`SqliteError: ...`, `TypeError [CODE]: ...`), if any. */
function lastError(file: string): string | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, TAIL_BYTES));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const errors = text.split('\n').filter((l) => /^[A-Z]\w*(Error|Exception)\b( \[\w+\])?: /.test(l));
  return errors.at(-1)?.slice(0, 300);
}
