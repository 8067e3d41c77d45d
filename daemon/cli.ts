import { Command, CommanderError } from 'commander';
import { KNOBS } from '../osv/knobs.js';
import { buildCommand } from './commands/build.js';
import { CliContext, common, packageVersion } from './commands/common.js';
import { daemonCommands } from './commands/daemonControl.js';
import { initCommand } from './commands/init.js';
import { logsCommand } from './commands/logs.js';
import { queryCommands } from './commands/query.js';
import { treeCommands } from './commands/tree.js';
import { printJson, reportOsvdError } from './say.js';
import { registerViewCommands } from './viewCommands.js';

/**
 * The `osvd` command. Each command talks to the tree's daemon when one runs and otherwise does the
 * work in this process (saying so); the one-shot code is loaded only then. The commands live in
 * commands/, one file per group.
 */
export async function main(argv: string[]): Promise<void> {
  const ctx = new CliContext();
  const program = new Command('osvd')
    .description('incremental build daemon for the OSv kernel')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(osvd help COMMAND for its options)')
    .configureOutput({ outputError: (text, write) => write(`osvd: ${text.replace(/^error: /, '')}`) })
    // Usage errors exit 2, as make's and the README's; commander would exit 1 (inherited by subcommands).
    .exitOverride()
    .addHelpText('after', `\nKnobs (--set KEY=VALUE, osvd set KEY=VALUE):\n${KNOBS.map((k) => `  ${k.name.padEnd(22)} ${k.doc}`).join('\n')}`);

  initCommand(program);
  buildCommand(program, ctx);
  queryCommands(program, ctx);
  treeCommands(program, ctx);
  daemonCommands(program, ctx);
  logsCommand(program);
  registerViewCommands(program, common);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help, or the version) already.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      if (err.exitCode !== 0 && argv.includes('--json')) printJson({ ok: false, error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } });
      return;
    }
    if (reportOsvdError(err, argv.includes('--json'))) return;
    throw err;
  } finally {
    ctx.closeAll();
  }
}
