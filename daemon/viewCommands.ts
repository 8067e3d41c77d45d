import path from 'node:path';
import type { Command } from 'commander';
import { OsvdError } from '../base/errors.js';
import type { ProjectOptions } from '../osv/project.js';

/**
 * `osvd graph` and `osvd report`: the pictures. Registered by cli.ts; the work (SQLite, the layout) is
 * loaded only when one of them runs.
 */

interface ViewOptions {
  root?: string;
  config?: string;
  set?: string[];
  json?: boolean;
  maxNodes: string;
}

const DEFAULT_MAX_NODES = '80';

function projectOptions(opts: ViewOptions): ProjectOptions {
  return { cwd: process.cwd(), root: opts.root, config: opts.config };
}

/** `--max-nodes N`: 0 means never group. */
function maxNodes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new OsvdError('USAGE', `'--max-nodes ${value}' is not a whole number`, { field: '--max-nodes', hint: 'e.g. --max-nodes 80; 0 never groups' });
  return n === 0 ? Infinity : n;
}

function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export function registerViewCommands(program: Command, common: (cmd: Command) => Command): void {
  common(program.command('graph').description('the build graph as DOT (or SVG): all of it, what TARGET needs, or what is stale'))
    .argument('[target]', 'an output (or a source file): draw it and what it depends on')
    .option('--stale', 'only what is not up to date, with the reasons')
    .option('--svg <file>', 'write SVG (laid out by osvd, reasons on the edges, durations on the nodes) to FILE')
    .option('-o, --output <file>', 'write to FILE: SVG when it ends in .svg, DOT otherwise')
    .option('--max-nodes <n>', 'above this many nodes, group compiles by folder (0: never)', DEFAULT_MAX_NODES)
    .addHelpText('after', '\nWithout --svg or -o, DOT goes to stdout: osvd graph | dot -Tpng > graph.png')
    .action(async (target: string | undefined, opts: ViewOptions & { stale?: boolean; svg?: string; output?: string }) => {
      const limit = maxNodes(opts.maxNodes);
      const pictures = await import('./pictures.js');
      const picture = await pictures.graphPicture(projectOptions(opts), opts.set ?? [], { target, cwd: process.cwd(), stale: Boolean(opts.stale), maxNodes: limit });
      const file = opts.svg ?? opts.output;
      if (file === undefined) {
        process.stdout.write(opts.json ? JSON.stringify(pictures.pictureJson(picture)) + '\n' : pictures.pictureText(picture, 'dot'));
        return;
      }
      pictures.writeFile(file, pictures.pictureText(picture, opts.svg !== undefined || file.endsWith('.svg') ? 'svg' : 'dot'));
      const json = pictures.pictureJson(picture);
      if (opts.json) process.stdout.write(JSON.stringify({ ok: true, file, ...json }) + '\n');
      else {
        const grouped = json.groupedAtDepth === undefined ? '' : `, compiles grouped by folder (depth ${json.groupedAtDepth})`;
        process.stdout.write(`osvd: wrote ${shown(file)}: ${json.actions} actions in ${json.nodes.length} nodes${grouped}\n`);
      }
    });

  // Not `common`: the report is of the last build, with that build's knobs, so --set has no place here.
  program
    .command('report')
    .description('the last build as one HTML page: timeline per job slot, critical path, what ran and why, warnings, restores')
    .option('--root <dir>', 'the OSv tree (default: from osv.config.ts, else the current folder)')
    .option('--config <file>', 'an osv.config.ts to use')
    .option('--json', 'print one JSON object')
    .option('-o, --output <file>', 'the page (default: build/.osvd/report.html in the tree)')
    .option('--trace <file>', "also write the build as a trace in Chrome's trace-event format (open it in Perfetto)")
    .option('--max-nodes <n>', 'above this many nodes, the graph groups compiles by folder (0: never)', DEFAULT_MAX_NODES)
    .action(async (opts: ViewOptions & { output?: string; trace?: string }) => {
      const limit = maxNodes(opts.maxNodes);
      const pictures = await import('./pictures.js');
      const written = await pictures.writeReport(projectOptions(opts), { htmlFile: opts.output, traceFile: opts.trace, maxNodes: limit });
      if (opts.json) process.stdout.write(JSON.stringify({ ok: true, ...written }) + '\n');
      else {
        process.stdout.write(`osvd: wrote ${shown(written.html)} (${written.actions} actions, ${written.criticalPath} on the critical path)\n`);
        if (written.trace) process.stdout.write(`osvd: wrote ${shown(written.trace)} (open it in https://ui.perfetto.dev or chrome://tracing)\n`);
      }
    });
}
