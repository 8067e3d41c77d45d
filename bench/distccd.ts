/**
 * A distccd of our own on loopback, for the distribution test and bench: started by the caller,
 * listening on 127.0.0.1 at a free port, accepting only 127.0.0.1, logging to a file of its own, with
 * its own pid file, stopped by its pid. Never a system service. (Run as root, distccd gives up root
 * for its own user, `distccd` on Debian, or `nobody`: its folder is writable by everyone.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Distccd {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** `127.0.0.1:<port>/<slots>`: this daemon as a distcc host entry. */
  host(slots: number): string;
  /** Compiles the daemon has finished successfully so far (its COMPILE_OK lines). */
  compilesOk(): number;
  /**
   * compilesOk() once it reaches `n`, or after `timeoutMs` whatever it is: distccd writes a job's line
   * after it has sent the object back, so a client (and a build) can end before the line is there.
   */
  compilesOkReaching(n: number, timeoutMs?: number): Promise<number>;
  stop(): void;
}

export function distccInstalled(): boolean {
  return spawnSync('distccd', ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync('distcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A port nothing listens on now (a listener is opened on port 0 and closed). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDistccd(jobs = os.availableParallelism()): Promise<Distccd> {
  for (let attempt = 0; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-distccd-'));
    fs.chmodSync(dir, 0o1777);
    const logFile = path.join(dir, 'distccd.log');
    const compilesOk = (): number => {
      try {
        return (fs.readFileSync(logFile, 'utf8').match(/ COMPILE_OK /g) ?? []).length;
      } catch {
        return 0;
      }
    };
    const port = await unusedPort();
    const child: ChildProcess = spawn(
      'distccd',
      ['--daemon', '--no-detach', '--listen', '127.0.0.1', '--port', String(port), '--allow', '127.0.0.1', '--jobs', String(jobs), '--log-file', logFile, '--log-level', 'info', '--pid-file', path.join(dir, 'distccd.pid')],
      { stdio: 'ignore' },
    );
    const pid = child.pid!;
    const stop = (): void => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    };
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline && !(await accepts(port))) await new Promise((r) => setTimeout(r, 50));
    if (!exited && (await accepts(port))) {
      return {
        port,
        pid,
        dir,
        logFile,
        host: (slots) => `127.0.0.1:${port}/${slots}`,
        compilesOk,
        compilesOkReaching: async (n, timeoutMs = 60_000) => {
          const deadline = Date.now() + timeoutMs;
          while (compilesOk() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          return compilesOk();
        },
        stop,
      };
    }
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    stop();
    // Another process may have taken the port between our check and distccd's bind: try another.
    if (attempt >= 3) throw new Error(`distccd did not start on 127.0.0.1:${port}:\n${log.slice(-2000)}`);
  }
}
