import type { Command } from 'commander';
import type { StatusReport, WhyReport } from '../answers.js';
import { printStatus, printWhy } from '../print.js';
import { printStats, type StatsReport } from '../stats.js';
import { common, oneShot, projectOptions, type CliContext, type CommonOptions } from './common.js';

/** Questions about the tree: `osvd status`, `osvd why` and `osvd stats`. */
export function queryCommands(program: Command, ctx: CliContext): void {
  common(program.command('stats').description("the store's size, and how many actions were restored (hits), ran (misses) or failed, by kind"))
    .option('--zero', 'start counting afresh (the store keeps its contents)')
    .action(async (opts: CommonOptions & { zero?: boolean }) => {
      const { client } = await ctx.locate(opts);
      let report: StatsReport;
      if (client) {
        report = await client.request<StatsReport>('stats', { zero: Boolean(opts.zero) });
        client.close();
      } else {
        report = await (await oneShot()).stats(projectOptions(opts), Boolean(opts.zero));
      }
      printStats(report, { json: opts.json });
    });

  common(program.command('status').description('what is stale and why, the knobs, the build in progress, the last build')).action(async (opts: CommonOptions) => {
    const { client } = await ctx.locate(opts);
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
      const { client } = await ctx.locate(opts);
      let report: WhyReport;
      if (client) {
        report = await client.request<WhyReport>('why', { path: target, cwd: process.cwd(), sets: opts.set });
        client.close();
      } else {
        report = await (await oneShot()).why(projectOptions(opts), opts.set, target, process.cwd());
      }
      printWhy(report, { json: opts.json });
    });
}
