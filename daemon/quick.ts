import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, readConfigCache, type OsvdConfig } from '../osv/config.js';
import { DaemonClient } from './client.js';
import type { StatusReport } from './operations.js';
import { printStatus } from './report.js';

/**
 * `osvd status` when a daemon runs, on the shortest road: no command-line framework, no TypeScript,
 * no SQLite, just the socket. Anything unusual (other flags, no cached config, no daemon) returns
 * false and the full CLI takes over.
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
  const cwd = process.cwd();
  const dir = rootArg ? path.resolve(cwd, rootArg) : cwd;
  const configFile = path.join(dir, CONFIG_FILE);
  let config: OsvdConfig = {};
  if (fs.existsSync(configFile)) {
    const cached = readConfigCache(configFile) as OsvdConfig | undefined;
    if (!cached) return false;
    config = cached;
  }
  const root = rootArg ? dir : path.resolve(dir, config.root ?? '.');
  const client = await DaemonClient.find(path.resolve(root, config.stateDir ?? 'build/.osvd'), 1000);
  if (!client) return false;
  try {
    printStatus(await client.request<StatusReport>('status'), { json });
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}
