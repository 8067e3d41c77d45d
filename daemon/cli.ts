import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { isOsvdError, OsvdError } from '../base/errors.js';
import { isAlive } from '../base/process.js';
import { KNOBS } from '../osv/knobs.js';
import { openProjectBase, type ProjectBase, type ProjectOptions } from '../osv/project.js';
import { DaemonClient } from './client.js';
import { formatLogLine, logPath } from './log.js';
import type { BuildReport, StatusReport, WhyReport } from './answers.js';
import { Interrupts, waitingFor } from './interrupts.js';
import { ProgressPrinter, progressMode } from './progress.js';
import type { LockHolder } from './session.js';
import { printBuild, printStatus, printWhy } from './print.js';
import { registerViewCommands } from './viewCommands.js';

/**
 * The `osvd` command. Each command talks to the tree's daemon when one runs and otherwise does the
 * work in this process (saying so); the one-shot code is loaded only then.
 */
interface CommonOptions {
  root?: string;
  config?: string;
  set: string[];
  json?: boolean;
  jobs?: string;
  daemon?: boolean;
}

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'osvd.js');

function common(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'the OSv tree (default: from osv.config.ts, else the current folder)')
    .option('--config <file>', 'an osv.config.ts to use')
    .option('--set <KEY=VALUE>', 'set a knob for this command (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON object')
    .option('--no-daemon', 'do the work in this process even when a daemon runs');
}

function projectOptions(opts: CommonOptions): ProjectOptions {
  return { cwd: process.cwd(), root: opts.root, config: opts.config, jobs: opts.jobs ? Number(opts.jobs) : undefined };
}

/** Connections this command opened: closed when it ends, whether it succeeded or not. */
type Opened = DaemonClient[];

async function locateIn(opened: Opened, opts: CommonOptions): Promise<{ base: ProjectBase; client: DaemonClient | undefined }> {
  const base = await openProjectBase(projectOptions(opts));
  const client = opts.daemon === false ? undefined : await DaemonClient.find(base.stateDir);
  if (client) opened.push(client);
  return { base, client };
}

function say(opts: { json?: boolean; quiet?: boolean }, text: string): void {
  if (!opts.json && !opts.quiet) process.stderr.write(`osvd: ${text}\n`);
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function oneShot(): Promise<typeof import('./oneShot.js')> {
  return import('./oneShot.js');
}

export async function main(argv: string[]): Promise<void> {
  const opened: Opened = [];
  const locate = (opts: CommonOptions): ReturnType<typeof locateIn> => locateIn(opened, opts);
  const program = new Command('osvd')
    .description('incremental build daemon for the OSv kernel')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .addHelpText('after', `\nKnobs (--set KEY=VALUE, osvd set KEY=VALUE):\n${KNOBS.map((k) => `  ${k.name.padEnd(22)} ${k.doc}`).join('\n')}`);

  common(program.command('build').description('build the kernel for the current knobs'))
    .addOption(new Option('-j, --jobs <n>', 'parallel jobs (default: cores)'))
    .option('--quiet', 'print only the summary')
    .option('--detach', 'hand the build to the daemon and return at once: it goes on without this command')
    .action(async (opts: CommonOptions & { quiet?: boolean; detach?: boolean }) => {
      const { client } = await locate(opts);
      if (opts.detach) return detachBuild(client, opts);
      const progress = new ProgressPrinter(progressMode(opts));
      const onWait = (holder: LockHolder | undefined): void => say({ json: opts.json }, waitingFor(holder));
      // Ctrl-C stops the build this command asked for, through the daemon too (see interrupts.ts).
      const interrupts = new Interrupts();
      let report: BuildReport;
      try {
        if (client) {
          const call = client.start<BuildReport>('build', { sets: opts.set, events: progressMode(opts) !== 'quiet' }, (e) =>
            (e as { type?: string }).type === 'waiting' ? onWait((e as { holder?: LockHolder }).holder) : progress.onEvent(e),
          );
          interrupts.onInterrupt(() => void client.request('cancel', { build: call.id }).catch(() => undefined));
          report = await call.result;
          client.close();
        } else {
          say(opts, 'no daemon runs for this tree: building in this process (osvd start keeps one running)');
          report = await (await oneShot()).build(projectOptions(opts), opts.set, progress.onEvent, onWait, interrupts.signal);
        }
      } catch (err) {
        if (interrupts.exitCode === undefined) throw err;
        report = undefined!;
      } finally {
        progress.finish();
        interrupts.dispose();
      }
      if (interrupts.exitCode !== undefined) {
        if (opts.json) printJson({ ok: false, error: { code: 'INTERRUPTED', message: 'interrupted: the build was stopped and its commands killed' } });
        else process.stderr.write('osvd: interrupted: the build was stopped and its commands killed\n');
        process.exitCode = interrupts.exitCode;
        return;
      }
      printBuild(report, { json: opts.json, quiet: opts.quiet });
      if (!report.ok) process.exitCode = 1;
    });

  common(program.command('status').description('what is stale and why, the knobs, the build in progress, the last build')).action(async (opts: CommonOptions) => {
    const { client } = await locate(opts);
    let report: StatusReport;
    if (client) {
      report = await client.request<StatusReport>('status', { sets: opts.set });
      client.close();
    } else {
      report = await (await oneShot()).status(projectOptions(opts), opts.set);
    }
    printStatus(report, { json: opts.json });
  });

  common(program.command('why').description('is PATH up to date, and if not, the chain of changes that makes it dirty'))
    .argument('<path>', 'an output (or a source file) of the build')
    .action(async (target: string, opts: CommonOptions) => {
      const { client } = await locate(opts);
      let report: WhyReport;
      if (client) {
        report = await client.request<WhyReport>('why', { path: target, cwd: process.cwd(), sets: opts.set });
        client.close();
      } else {
        report = await (await oneShot()).why(projectOptions(opts), opts.set, target, process.cwd());
      }
      printWhy(report, { json: opts.json });
    });

  common(program.command('clean').description("remove the build folder's outputs (the store keeps them for later restores)"))
    .option('--all', 'also remove the database and the store')
    .action(async (opts: CommonOptions & { all?: boolean }) => {
      const { client } = await locate(opts);
      if (client && opts.all) {
        client.close();
        throw new OsvdError('DAEMON_RUNNING', `a daemon runs for this tree (pid ${client.info.pid}) and uses its database`, { hint: 'osvd stop first' });
      }
      const removed = await (await oneShot()).clean(projectOptions(opts), opts.set, Boolean(opts.all), (holder) => say({ json: opts.json }, waitingFor(holder)));
      if (client) {
        await client.request('refresh');
        client.close();
      }
      if (opts.json) printJson({ ok: true, removed });
      else process.stdout.write(removed.length ? `removed ${removed.join(', ')}\n` : 'nothing to remove\n');
    });

  common(program.command('set').description('change knobs live (kept in the database); --reset goes back to osv.config.ts'))
    .argument('[assignments...]', 'KEY=VALUE ...')
    .option('--reset', 'forget every knob set with osvd set')
    .action(async (assignments: string[], opts: CommonOptions & { reset?: boolean }) => {
      if (!opts.reset && assignments.length === 0) throw new OsvdError('USAGE', 'give KEY=VALUE pairs, or --reset', { field: 'osvd set' });
      const { client } = await locate(opts);
      let result: { knobs: Record<string, string>; liveKnobs: Record<string, string> };
      if (client) {
        result = await client.request('set', { sets: assignments, reset: Boolean(opts.reset) });
        client.close();
      } else {
        result = await (await oneShot()).setKnobs(projectOptions(opts), assignments, Boolean(opts.reset));
      }
      if (opts.json) printJson({ ok: true, ...result, via: client ? 'daemon' : 'one-shot' });
      else {
        const live = Object.entries(result.liveKnobs).map(([k, v]) => `${k}=${v}`);
        process.stdout.write(live.length ? `knobs set live: ${live.join(' ')}\n` : 'no knobs set live: osv.config.ts applies\n');
      }
    });

  common(program.command('start').description('start the daemon for this tree'))
    .option('--foreground', 'run in this process (logs still go to the log file)')
    .option('--auto-build', 'build by itself after changes (also daemon.autoBuild in osv.config.ts)')
    .action(async (opts: CommonOptions & { foreground?: boolean; autoBuild?: boolean }) => {
      const { base, client } = await locate(opts);
      if (client) {
        client.close();
        if (opts.json) printJson({ ok: true, running: true, pid: client.info.pid, started: false });
        else process.stdout.write(`osvd: a daemon already runs for ${base.root} (pid ${client.info.pid})\n`);
        return;
      }
      const options = { ...projectOptions(opts), root: base.root, config: base.configFile, autoBuild: opts.autoBuild };
      if (opts.foreground) {
        const { Daemon } = await import('./server.js');
        const daemon = await Daemon.start(options);
        // However it is asked to stop (a request, a signal), the process exits once it has stopped:
        // `osvd stop` waits for that.
        void daemon.stopped.then(() => process.exit(0));
        const stop = (): void => void daemon.stop();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        if (!opts.json) process.stdout.write(`osvd: daemon running for ${base.root} (pid ${daemon.pid})\n`);
        return;
      }
      const pid = await startInBackground(base, options.autoBuild);
      if (opts.json) printJson({ ok: true, running: true, pid, started: true });
      else process.stdout.write(`osvd: daemon started for ${base.root} (pid ${pid})\n`);
    });

  common(program.command('stop').description('stop the daemon of this tree')).action(async (opts: CommonOptions) => {
    const { client } = await locate(opts);
    if (!client) {
      if (opts.json) printJson({ ok: true, running: false });
      else process.stdout.write('osvd: no daemon runs for this tree\n');
      return;
    }
    const pid = client.info.pid;
    await client.request('stop').catch(() => undefined);
    client.close();
    // "stopped" means the process has exited (a build in progress is interrupted and its commands killed first).
    for (let i = 0; i < STOP_WAIT_MS / 50 && isAlive(pid); i++) await sleep(50);
    if (isAlive(pid)) {
      throw new OsvdError('DAEMON_STOP', `the daemon (pid ${pid}) was asked to stop but has not exited after ${STOP_WAIT_MS / 1000} s`, { hint: `its log says what it is doing: osvd logs; kill ${pid} ends it` });
    }
    if (opts.json) printJson({ ok: true, running: false, pid });
    else process.stdout.write(`osvd: daemon stopped (pid ${pid})\n`);
  });

  common(program.command('logs').description("print the tree's log"))
    .option('-f, --follow', 'keep printing new lines')
    .action(async (opts: CommonOptions & { follow?: boolean }) => {
      const base = await openProjectBase(projectOptions(opts));
      const file = logPath(base.stateDir);
      let offset = 0;
      const dump = (): void => {
        let text: string;
        try {
          const st = fs.statSync(file);
          if (st.size < offset) offset = 0;
          const fd = fs.openSync(file, 'r');
          const buf = Buffer.alloc(st.size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          fs.closeSync(fd);
          offset = st.size;
          text = buf.toString('utf8');
        } catch {
          return;
        }
        for (const line of text.split('\n')) if (line) process.stdout.write((opts.json ? line : formatLogLine(line)) + '\n');
      };
      if (!fs.existsSync(file) && !opts.follow) {
        process.stdout.write(`osvd: no log yet at ${file}\n`);
        return;
      }
      dump();
      if (opts.follow) {
        setInterval(dump, 250);
        await new Promise(() => undefined);
      }
    });

  registerViewCommands(program, common);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    const json = argv.includes('--json');
    if (isOsvdError(err)) {
      if (json) printJson({ ok: false, error: err.toJSON() });
      else process.stderr.write(`osvd: ${err.describe()}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  } finally {
    for (const c of opened) c.close();
  }
}

/** How long `osvd stop` waits for the daemon to exit. */
const STOP_WAIT_MS = 60_000;

/** `osvd build --detach`: the daemon builds, not tied to this command. */
async function detachBuild(client: DaemonClient | undefined, opts: CommonOptions): Promise<void> {
  if (!client) throw new OsvdError('USAGE', '--detach hands the build to the daemon, and no daemon runs for this tree', { field: '--detach', hint: 'osvd start first' });
  const r = await client.request<{ pid: number }>('build', { sets: opts.set, detach: true });
  client.close();
  if (opts.json) printJson({ ok: true, detached: true, via: 'daemon', pid: r.pid });
  else process.stdout.write(`osvd: the daemon (pid ${r.pid}) builds; osvd status follows it\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Start `osvd start --foreground` detached and wait until it answers. */
async function startInBackground(base: ProjectBase, autoBuild: boolean | undefined): Promise<number> {
  fs.mkdirSync(base.stateDir, { recursive: true, mode: 0o700 });
  const outFile = path.join(base.stateDir, 'daemon.out');
  const out = fs.openSync(outFile, 'w', 0o600);
  // A small young generation keeps the long-lived daemon's memory down (measured: 224 -> 156 MB RSS
  // at OSv scale after a full rebuild) at no visible cost to build time.
  const args = ['--max-semi-space-size=2', '--expose-gc', BIN, 'start', '--foreground', '--root', base.root];
  if (base.configFile) args.push('--config', base.configFile);
  if (autoBuild) args.push('--auto-build');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], cwd: base.root, env: process.env });
  fs.closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  for (let i = 0; i < 1200; i++) {
    const client = await DaemonClient.find(base.stateDir, 500);
    if (client && client.info.pid === child.pid) {
      client.close();
      return child.pid!;
    }
    client?.close();
    if (exited !== null) {
      const text = fs.readFileSync(outFile, 'utf8').trim();
      throw new OsvdError('DAEMON_START', `the daemon did not start:\n${text.split('\n').slice(-8).join('\n')}`, { file: outFile });
    }
    await sleep(50);
  }
  throw new OsvdError('DAEMON_START', 'the daemon did not answer within 60 s', { file: logPath(base.stateDir) });
}
