import { InvalidArgumentError, Option, type Command } from 'commander';
import { OsvdError } from '../../base/errors.js';
import { baseEnvironment } from '../../osv/passedEnv.js';
import type { DryRunReport } from '../answers.js';
import type { DaemonClient } from '../client.js';
import { parseWhole, type BuildRequest } from '../buildChoices.js';
import { daemonBuild, runBuild } from '../buildRun.js';
import { printDryRun } from '../print.js';
import { terminalChoice } from '../progress.js';
import { printJson, say } from '../say.js';
import { common, oneShot, projectOptions, type CliContext, type CommonOptions } from './common.js';

interface BuildOptions extends CommonOptions {
  quiet?: boolean;
  verbose?: boolean;
  dryRun?: boolean;
  k?: number;
  keepGoing?: boolean;
  detach?: boolean;
}

const FAILURES_HELP = `
Failures: like make, osvd stops starting actions at the first failure and lets those running finish.
-k N goes on until N actions have failed (ninja's -k; 0: no limit); --keep-going is make's -k.
Ctrl-C stops the build and kills its commands (exit 130), through the daemon too; with --detach
the daemon builds on without this command.

Targets are outputs or sources (a source builds its object), relative to the tree, the current
folder or the build folder: osvd build core/sched.cc builds build/<mode>.<arch>/core/sched.o and
what it needs, nothing else.`;

/** `osvd build [TARGET...]`: through the tree's daemon when one runs, else in this process. */
export function buildCommand(program: Command, ctx: CliContext): void {
  common(program.command('build').description('build the kernel (or the TARGETs) for the current knobs'))
    .argument('[targets...]', 'outputs or sources to build, with what they need (default: the kernel)')
    .addOption(new Option('-j, --jobs <n>', 'parallel jobs (default: cores)').argParser(positiveWhole))
    .addOption(new Option('-k <n>', 'go on until N actions have failed (0: no limit)').argParser(wholeNumber))
    .option('--keep-going', 'go on after failures with what does not depend on them (make -k)')
    .option('-n, --dry-run', 'say what would run, be restored or stay, and why; run and record nothing')
    .option('-v, --verbose', 'print each command as it runs')
    .option('--quiet', 'no progress: only what commands printed, failures and the summary')
    .option('--detach', 'hand the build to the daemon and return at once: it goes on without this command')
    .addHelpText('after', FAILURES_HELP)
    .action(async (targets: string[], opts: BuildOptions) => {
      const { client } = await ctx.locate(opts);
      const terminal = terminalChoice(opts);
      const request: BuildRequest = {
        targets,
        cwd: process.cwd(),
        jobs: opts.jobs,
        failureLimit: opts.keepGoing ? 0 : (opts.k ?? 1),
        colour: terminal.colour,
      };
      if (opts.dryRun) {
        let report: DryRunReport;
        if (client) {
          report = await client.request<DryRunReport>('dryRun', { sets: opts.set, ...request });
          client.close();
        } else {
          report = await (await oneShot()).dryRun(projectOptions(opts), opts.set, request);
        }
        printDryRun(report, { json: opts.json, verbose: opts.verbose });
        return;
      }
      if (opts.detach) return detachBuild(client, opts, request);
      await runBuild(opts, terminal, client
        ? daemonBuild(client, opts.set, request, terminal)
        : async (onEvent, onWait, interrupts) => {
          say(opts, 'no daemon runs for this tree: building in this process (osvd start keeps one running)');
          return (await oneShot()).build(projectOptions(opts), opts.set, onEvent, request, onWait, interrupts.signal);
        });
    });
}

/** `osvd build --detach`: the daemon builds, not tied to this command. */
async function detachBuild(client: DaemonClient | undefined, opts: BuildOptions, request: BuildRequest): Promise<void> {
  if (!client) throw new OsvdError('USAGE', '--detach hands the build to the daemon, and no daemon runs for this tree', { field: '--detach', hint: 'osvd start first' });
  const r = await client.request<{ pid: number }>('build', { sets: opts.set, detach: true, env: baseEnvironment(process.env), ...request });
  client.close();
  if (opts.json) printJson({ ok: true, detached: true, via: 'daemon', pid: r.pid });
  else process.stdout.write(`osvd: the daemon (pid ${r.pid}) builds; osvd status follows it\n`);
}

/** `-j N`: a whole number above 0 (commander reports anything else as a usage error, exit 2). */
export function positiveWhole(value: string): number {
  const n = parseWhole(value, 1);
  if (n === undefined) throw new InvalidArgumentError('it must be a whole number above 0.');
  return n;
}

/** `-k N`: a whole number, 0 or more. */
export function wholeNumber(value: string): number {
  const n = parseWhole(value, 0);
  if (n === undefined) throw new InvalidArgumentError('it must be a whole number.');
  return n;
}
