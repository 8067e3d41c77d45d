/** The log's writer (pino); where it is and how it reads are in logFile.ts, which the CLI loads without pino. */
import fs from 'node:fs';
import pino from 'pino';
import { LOG_CAP_BYTES, logPath } from './logFile.js';

export type Logger = pino.Logger;

function rotateIfLarge(file: string): boolean {
  try {
    if (fs.statSync(file).size <= LOG_CAP_BYTES) return false;
    fs.renameSync(file, `${file}.1`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Logs go to a JSON file in the state folder, never to the terminal (unless OSVD_LOG=stderr).
 * A long-lived process (the daemon) also checks the size every minute.
 */
export function openLog(stateDir: string, options: { longLived?: boolean } = {}): Logger {
  if (process.env.OSVD_LOG === 'stderr') return pino({ level: 'debug' }, pino.destination(2));
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = logPath(stateDir);
  rotateIfLarge(file);
  const dest = pino.destination({ dest: file, sync: true, mkdir: true });
  // A line that cannot be written (a full disk) is lost, never the build: without a listener the
  // destination's 'error' would be thrown from whatever logged.
  dest.on('error', () => undefined);
  const logger = pino({ level: process.env.OSVD_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, dest);
  if (options.longLived) {
    setInterval(() => {
      if (rotateIfLarge(file)) dest.reopen();
    }, 60_000).unref();
  }
  return logger;
}
