/** Where the log is and how a line reads for people; no pino here: the CLI loads this, the log's writer is log.ts. */
import path from 'node:path';

/** The log is capped: past this size it moves to osvd.log.1 (replacing the older one). */
export const LOG_CAP_BYTES = 10 * 1024 * 1024;

export function logPath(stateDir: string): string {
  return path.join(stateDir, 'osvd.log');
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
