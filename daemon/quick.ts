import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readConfigCache } from '../osv/configCache.js';
import { CONFIG_FILE_NAME, treeFolder } from '../osv/treeFolder.js';
import { isAlive } from '../base/process.js';
import type { DryRunReport, StatusReport, WhyReport } from './answers.js';
import { parseWhole, type BuildRequest } from './buildChoices.js';
import { daemonBuild, runBuild } from './buildRun.js';
import { DaemonClient } from './client.js';
import { readDaemonFile } from './locate.js';
import { printDryRun, printSet, printStatus, printWhy } from './print.js';
import { terminalChoice } from './progress.js';
import { reportOsvdError, sayStarting } from './say.js';
import { stopDaemon } from './stopDaemon.js';

/**
 * `osvd status`, `osvd build` (`-n` too), `osvd why`, `osvd set` and `osvd stop` when a daemon runs, on the shortest road: no command-line framework,
 * no TypeScript, no SQLite, a handful of small modules and one request on the socket (`osvd build`
 * through the daemon spent ~100 ms of its ~200 loading the full CLI). Anything unusual (another flag,
 * no cached config, no daemon) returns false before anything is asked, and the full CLI takes over.
 * The build prints and exits as the full command does: both use buildRun.ts.
 */
export async function quick(argv: readonly string[]): Promise<boolean> {
  if (argv[2] === 'status') return quickStatus(argv.slice(3));
  if (argv[2] === 'build') return quickBuild(argv.slice(3));
  if (argv[2] === 'why') return quickWhy(argv.slice(3));
  if (argv[2] === 'set') return quickSet(argv.slice(3));
  if (argv[2] === 'stop') return quickStop(argv.slice(3));
  return false;
}

async function quickStatus(args: readonly string[]): Promise<boolean> {
  let rootArg: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') json = true;
    else if (args[i] === '--root' && args[i + 1]) rootArg = args[++i];
    else return false;
  }
  const stateDir = stateDirOf(rootArg);
  const info = stateDir && readDaemonFile(stateDir);
  if (!info || !isAlive(info.pid)) return false;
  const report = await requestStatus(info.socket);
  if (!report) return false;
  printStatus(report, { json });
  return true;
}

/** The options of `osvd build` the short road takes (see buildCommand for their meaning); any other: the full CLI. */
interface QuickBuildOptions {
  rootArg?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  jobs?: number;
  k?: number;
  keepGoing?: boolean;
  dryRun?: boolean;
  targets: string[];
}

function buildOptions(args: readonly string[]): QuickBuildOptions | undefined {
  const o: QuickBuildOptions = { set: [], targets: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    if (a === '--json') o.json = true;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '-v' || a === '--verbose') o.verbose = true;
    else if (a === '--keep-going') o.keepGoing = true;
    else if (a === '-n' || a === '--dry-run') o.dryRun = true;
    else if ((a === '-j' || a === '--jobs') && value !== undefined && (o.jobs = parseWhole(value, 1)) !== undefined) i++;
    else if (a === '-k' && value !== undefined && (o.k = parseWhole(value, 0)) !== undefined) i++;
    else if (a === '--set' && value !== undefined && !value.startsWith('-')) o.set.push(args[++i]!);
    else if (a === '--root' && value !== undefined && !value.startsWith('-')) o.rootArg = args[++i];
    else if (!a.startsWith('-')) o.targets.push(a);
    else return undefined;
  }
  return o;
}

async function quickBuild(args: readonly string[]): Promise<boolean> {
  const opts = buildOptions(args);
  if (!opts) return false;
  return throughDaemon(opts.rootArg, opts, async (client) => {
    const terminal = terminalChoice(opts);
    const request: BuildRequest = {
      targets: opts.targets,
      cwd: process.cwd(),
      jobs: opts.jobs,
      failureLimit: opts.keepGoing ? 0 : (opts.k ?? 1),
      colour: terminal.colour,
    };
    if (opts.dryRun) printDryRun(await client.request<DryRunReport>('dryRun', { sets: opts.set, ...request }), { json: opts.json, verbose: opts.verbose });
    else await runBuild(opts, terminal, daemonBuild(client, opts.set, request, terminal));
  });
}

/** `osvd why PATH [--json] [--set K=V]... [--root DIR]` through a running daemon. */
async function quickWhy(args: readonly string[]): Promise<boolean> {
  let rootArg: string | undefined;
  let json = false;
  const sets: string[] = [];
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    if (a === '--json') json = true;
    else if (a === '--set' && value !== undefined && !value.startsWith('-')) sets.push(args[++i]!);
    else if (a === '--root' && value !== undefined && !value.startsWith('-')) rootArg = args[++i];
    else if (!a.startsWith('-')) targets.push(a);
    else return false;
  }
  if (targets.length !== 1) return false;
  return throughDaemon(rootArg, { json }, async (client) => {
    printWhy(await client.request<WhyReport>('why', { path: targets[0], cwd: process.cwd(), sets }), { json });
  });
}

/** `osvd set KEY=VALUE... [--reset] [--json] [--root DIR]` through a running daemon. */
async function quickSet(args: readonly string[]): Promise<boolean> {
  let rootArg: string | undefined;
  let json = false;
  let reset = false;
  const sets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    if (a === '--json') json = true;
    else if (a === '--reset') reset = true;
    else if (a === '--root' && value !== undefined && !value.startsWith('-')) rootArg = args[++i];
    else if (!a.startsWith('-')) sets.push(a);
    else return false;
  }
  if (!reset && sets.length === 0) return false;
  return throughDaemon(rootArg, { json }, async (client) => {
    printSet(await client.request<{ knobs: Record<string, string>; liveKnobs: Record<string, string> }>('set', { sets, reset }), 'daemon', { json });
  });
}

/** `osvd stop [--json] [--root DIR]` when a daemon runs (without one, the full CLI says there is none). */
async function quickStop(args: readonly string[]): Promise<boolean> {
  let rootArg: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') json = true;
    else if (args[i] === '--root' && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) rootArg = args[++i];
    else return false;
  }
  return throughDaemon(rootArg, { json }, (client) => stopDaemon(client, json));
}

/**
 * Ask the tree's running daemon: false (nothing asked) when there is none, or no cached config to
 * find it by, and the full CLI takes over. From the request on, the command is this road's: its
 * errors are reported as the full CLI reports them.
 */
async function throughDaemon(rootArg: string | undefined, say: { json?: boolean; quiet?: boolean }, ask: (client: DaemonClient) => Promise<void>): Promise<boolean> {
  const stateDir = stateDirOf(rootArg);
  const client = stateDir && (await DaemonClient.find(stateDir));
  if (!client) return false;
  try {
    sayStarting(client, say);
    await ask(client);
  } catch (err) {
    if (!reportOsvdError(err, Boolean(say.json))) throw err;
  } finally {
    client.close();
  }
  return true;
}

/** The tree's state folder from the cached config (undefined when osv.config.ts has no cache yet). */
function stateDirOf(rootArg: string | undefined): string | undefined {
  const dir = rootArg ? path.resolve(rootArg) : treeFolder(process.cwd());
  const configFile = path.join(dir, CONFIG_FILE_NAME);
  let config: { root?: string; stateDir?: string } = {};
  if (fs.existsSync(configFile)) {
    const cached = readConfigCache(configFile) as typeof config | undefined;
    if (!cached) return undefined;
    config = cached;
  }
  const root = rootArg ? dir : path.resolve(dir, config.root ?? '.');
  return path.resolve(root, config.stateDir ?? 'build/.osvd');
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
