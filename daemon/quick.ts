import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readConfigCache } from '../osv/configCache.js';
import { isAlive } from '../base/process.js';
import { readDaemonFile } from './locate.js';
import type { StatusReport } from './answers.js';
import { printStatus } from './print.js';

/**
 * `osvd status` when a daemon runs, on the shortest road: no command-line framework, no TypeScript,
 * no SQLite, a handful of small modules and one request on the socket. Anything unusual (other flags,
 * no cached config, no daemon, an error) returns false and the full CLI takes over.
 */
export async function quickStatus(argv: readonly string[]): Promise<boolean> {
  const args = argv.slice(3);
  let rootArg: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') json = true;
    else if (args[i] === '--root' && args[i + 1]) rootArg = args[++i];
    else return false;
  }
  const dir = rootArg ? path.resolve(rootArg) : process.cwd();
  const configFile = path.join(dir, 'osv.config.ts');
  let config: { root?: string; stateDir?: string } = {};
  if (fs.existsSync(configFile)) {
    const cached = readConfigCache(configFile) as typeof config | undefined;
    if (!cached) return false;
    config = cached;
  }
  const root = rootArg ? dir : path.resolve(dir, config.root ?? '.');
  const info = readDaemonFile(path.resolve(root, config.stateDir ?? 'build/.osvd'));
  if (!info || !isAlive(info.pid)) return false;
  const report = await requestStatus(info.socket);
  if (!report) return false;
  printStatus(report, { json });
  return true;
}

function requestStatus(socketPath: string): Promise<StatusReport | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    const done = (value: StatusReport | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write('{"id":1,"method":"status"}\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      try {
        const reply = JSON.parse(buffer.slice(0, nl)) as { result?: StatusReport };
        done(reply.result);
      } catch {
        done(undefined);
      }
    });
  });
}
