import type { Command } from 'commander';
import { OsvdError } from '../../base/errors.js';
import { waitingFor } from '../interrupts.js';
import { printSet } from '../print.js';
import { printJson, say } from '../say.js';
import { common, oneShot, projectOptions, type CliContext, type CommonOptions } from './common.js';

/** Commands that change the tree's state: `osvd clean` and `osvd set`. */
export function treeCommands(program: Command, ctx: CliContext): void {
  common(program.command('clean').description("remove the build folder's outputs (the store keeps them for later restores)"))
    .option('--all', 'also remove the database and the store')
    .action(async (opts: CommonOptions & { all?: boolean }) => {
      const { client } = await ctx.locate(opts);
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
      const { client } = await ctx.locate(opts);
      let result: { knobs: Record<string, string>; liveKnobs: Record<string, string> };
      if (client) {
        result = await client.request('set', { sets: assignments, reset: Boolean(opts.reset) });
        client.close();
      } else {
        result = await (await oneShot()).setKnobs(projectOptions(opts), assignments, Boolean(opts.reset));
      }
      printSet(result, client ? 'daemon' : 'one-shot', { json: opts.json });
    });
}
