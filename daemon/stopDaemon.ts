import { OsvdError } from '../base/errors.js';
import { exited, isStopped } from '../base/process.js';
import type { DaemonClient } from './client.js';
import { printJson } from './say.js';

/** How long `osvd stop` waits for the daemon to exit. */
const STOP_WAIT_MS = 60_000;

/**
 * `osvd stop` once the daemon is found, on either road (the full CLI, daemon/quick.ts): ask it to stop,
 * then wait until its process has exited ("stopped" means gone: a build in progress is interrupted and
 * its commands killed first), and say so. A daemon stopped by a signal is continued to do so.
 */
export async function stopDaemon(client: DaemonClient, json: boolean): Promise<void> {
  const pid = client.info.pid;
  await client.request('stop').catch(() => undefined);
  client.close();
  // A stopped daemon (SIGSTOP, Ctrl-Z) reads no request (the client gave up on it: DAEMON_STOPPED):
  // SIGTERM, which it handles as osvd stop, then SIGCONT to let it.
  if (isStopped(pid)) {
    try {
      process.kill(pid, 'SIGTERM');
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone meanwhile
    }
  }
  if (!(await exited(pid, STOP_WAIT_MS, 50))) {
    throw new OsvdError('DAEMON_STOP', `the daemon (pid ${pid}) was asked to stop but has not exited after ${STOP_WAIT_MS / 1000} s`, { hint: `its log says what it is doing: osvd logs; kill ${pid} ends it` });
  }
  if (json) printJson({ ok: true, running: false, pid });
  else process.stdout.write(`osvd: daemon stopped (pid ${pid})\n`);
}
