import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonGoneError } from '../daemon/daemonGone.js';

/**
 * What a client says when the daemon drops its request: a daemon that died of an error is named as
 * gone, with the error Node printed to its output file (build/.osvd/daemon.out) and that file's name.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-gone-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a daemon that closed the connection before answering', () => {
  it('has exited: the client names the error it died of and where the rest is', async () => {
    const out = fs.openSync(path.join(dir, 'daemon.out'), 'w');
    // A process that dies as a daemon does of an uncaught error, its output where the daemon's goes.
    const script = "console.log('osvd: daemon running'); const e = new Error('database or disk is full'); e.name = 'SqliteError'; e.code = 'SQLITE_FULL'; throw e;";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    await new Promise((r) => child.on('exit', r));
    const err = await daemonGoneError(child.pid!, dir);
    expect(err.code).toBe('DAEMON_GONE');
    expect(err.describe()).toBe(
      `the daemon closed the connection before answering: it exited (pid ${child.pid}): SqliteError: database or disk is full\n  hint: what it printed last is in ${path.join(dir, 'daemon.out')}`,
    );
  });

  it('still runs (it let this client go): the plain message, after waiting a second for it to exit', async () => {
    const started = Date.now();
    const err = await daemonGoneError(process.pid, dir);
    expect(err.describe()).toBe('the daemon closed the connection before answering');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
