import { Option, type Command } from 'commander';
import type { BuildReport } from '../answers.js';
import { printBuild } from '../print.js';
import { ProgressPrinter, progressMode } from '../progress.js';
import { common, oneShot, projectOptions, say, type CliContext, type CommonOptions } from './common.js';

/** `osvd build`: through the tree's daemon when one runs, else in this process. */
export function buildCommand(program: Command, ctx: CliContext): void {
  common(program.command('build').description('build the kernel for the current knobs'))
    .addOption(new Option('-j, --jobs <n>', 'parallel jobs (default: cores)').argParser((v) => Number(v)))
    .option('--quiet', 'print only the summary')
    .action(async (opts: CommonOptions & { quiet?: boolean }) => {
      const { client } = await ctx.locate(opts);
      const progress = new ProgressPrinter(progressMode(opts));
      let report: BuildReport;
      try {
        if (client) {
          report = await client.request<BuildReport>('build', { sets: opts.set, events: progressMode(opts) !== 'quiet' }, progress.onEvent);
          client.close();
        } else {
          say(opts, 'no daemon runs for this tree: building in this process (osvd start keeps one running)');
          report = await (await oneShot()).build(projectOptions(opts), opts.set, progress.onEvent);
        }
      } finally {
        progress.finish();
      }
      printBuild(report, { json: opts.json, quiet: opts.quiet });
      if (!report.ok) process.exitCode = 1;
    });
}
