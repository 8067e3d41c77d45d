import { isOsvdError } from '../base/errors.js';
import type { DaemonClient } from './client.js';

/** What every command prints besides its answer: notes on stderr, JSON, and osvd's errors. Small: the short roads (quick.ts) load it. */

/** A note on stderr, unless the output is JSON or quiet. */
export function say(opts: { json?: boolean; quiet?: boolean }, text: string): void {
  if (!opts.json && !opts.quiet) process.stderr.write(`osvd: ${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Print osvd's own error (named file and field, a hint) as a command reports it, exit code 2; false for any other error. */
export function reportOsvdError(err: unknown, json: boolean): boolean {
  if (!isOsvdError(err)) return false;
  if (json) printJson({ ok: false, error: err.toJSON() });
  else process.stderr.write(`osvd: ${err.describe()}\n`);
  process.exitCode = 2;
  return true;
}

/** What a request waiting for the daemon's start is told, on stderr (not with --json). */
export function sayStarting(client: DaemonClient, opts: { json?: boolean; quiet?: boolean }): void {
  client.onStarting = (what) => say(opts, `waiting for the daemon (pid ${client.info.pid}) to start: ${what}`);
}
