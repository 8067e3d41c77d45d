import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export type Logger = pino.Logger;

/** The log is capped: past this size it moves to osvd.log.1 (replacing the older one). */
export const LOG_CAP_BYTES = 10 * 1024 * 1024;

export function logPath(stateDir: string): string {
  return path.join(stateDir, 'osvd.log');
}

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
  const logger = pino({ level: process.env.OSVD_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, dest);
  if (options.longLived) {
    setInterval(() => {
      if (rotateIfLarge(file)) dest.reopen();
    }, 60_000).unref();
  }
  return logger;
}

/** One log line for people: time, level, message, and the rest as key=value. */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, pid, hostname, ...rest } = rec;
  void pid;
  void hostname;
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${new Date(Number(time)).toISOString()} ${names[Number(level)] ?? level} ${String(msg ?? '')}${extra ? `  ${extra}` : ''}`;
}
