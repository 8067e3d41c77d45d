import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../base/process.js';
import { copyExample, osvd, removeCopies, startDaemon, stopDaemons } from './helpers.js';

/**
 * A daemon stopped by a signal (SIGSTOP, Ctrl-Z in the terminal of `osvd start --foreground`, a
 * debugger) reads no request: before 2026-12-04 every client waited for it for good. Now a request
 * fails after 3 s of silence, saying so; `osvd stop` continues it so that it stops.
 */
afterEach(stopDaemons);
afterAll(removeCopies);

describe('a daemon stopped by a signal', () => {
  it('status and build say so and how to go on (exit 2); osvd stop ends it', () => {
    const root = copyExample();
    const pid = startDaemon(root);
    process.kill(pid, 'SIGSTOP');
    const error = {
      code: 'DAEMON_STOPPED',
      message: `the daemon (pid ${pid}) is stopped (SIGSTOP, Ctrl-Z or a debugger) and cannot answer`,
      hint: `kill -CONT ${pid} lets it go on; kill ${pid} ends it (osvd start starts another)`,
    };
    for (const args of [['status', '--json'], ['build', '--json']]) {
      const r = osvd(root, args);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout.trim()).error).toEqual(error);
    }
    const stopped = osvd(root, ['stop']);
    expect(stopped.stdout).toBe(`osvd: daemon stopped (pid ${pid})\n`);
    expect(stopped.code).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });
});
