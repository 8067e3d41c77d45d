import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export type Logger = pino.Logger;

/** Logs go to a JSON file in the state folder, never to the terminal (unless OSVD_LOG=stderr). */
export function openLog(stateDir: string): Logger {
  if (process.env.OSVD_LOG === 'stderr') return pino({ level: 'debug' }, pino.destination(2));
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'osvd.log');
  return pino({ level: process.env.OSVD_LOG_LEVEL ?? 'info' }, pino.destination({ dest: file, sync: true, mkdir: true }));
}
