import { Command, Option } from 'commander';
import { isOsvdError, OsvdError } from '../graph/errors.js';
import { describeReason, runChanges, type DirtyReason } from '../graph/rebuilder.js';
import type { Plan, PlanState } from '../graph/plan.js';
import { KNOBS } from '../osv/knobs.js';
import { printBuild, printStatus, printWhy, type WhyNode } from './report.js';
import { Session } from './session.js';

interface CommonOptions {
  root?: string;
  config?: string;
  set: string[];
  json?: boolean;
  jobs?: string;
}

function common(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'the OSv tree (default: from osv.config.ts, else the current folder)')
    .option('--config <file>', 'an osv.config.ts to use')
    .option('--set <KEY=VALUE>', 'set a knob for this command (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON object');
}

async function withSession<T>(opts: CommonOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const session = await Session.open({
    cwd: process.cwd(),
    root: opts.root,
    config: opts.config,
    sets: opts.set,
    jobs: opts.jobs ? Number(opts.jobs) : undefined,
  });
  try {
    for (const w of session.warnings) process.stderr.write(`osvd: warning: ${w}\n`);
    return await fn(session);
  } finally {
    session.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('osvd')
    .description('incremental build daemon for the OSv kernel')
    .showHelpAfterError()
    .addHelpText('after', `\nKnobs (--set KEY=VALUE):\n${KNOBS.map((k) => `  ${k.name.padEnd(22)} ${k.doc}`).join('\n')}`);

  common(program.command('build').description('build the kernel for the current knobs'))
    .addOption(new Option('-j, --jobs <n>', 'parallel jobs (default: cores)'))
    .option('--quiet', 'print only the summary')
    .action(async (opts: CommonOptions & { quiet?: boolean }) => {
      await withSession(opts, async (s) => {
        const { importCached, importMs } = await s.graph();
        const result = await s.build();
        printBuild(result, { json: opts.json, quiet: opts.quiet, knobs: s.project.knobs, importCached, importMs });
        if (!result.ok) process.exitCode = 1;
      });
    });

  common(program.command('status').description('what is stale and why, the knobs, the last build')).action(async (opts: CommonOptions) => {
    await withSession(opts, async (s) => {
      const { graph } = await s.graph();
      const plan = await s.plan();
      const byKind: Record<string, number> = {};
      for (const a of graph.actions.values()) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
      printStatus(
        {
          daemon: { running: false, note: 'no daemon runs for this tree: answered from the database' },
          root: s.project.root,
          outDir: s.project.outDir,
          knobs: s.project.knobs,
          graph: { actions: graph.actions.size, byKind },
          dirty: { run: plan.counts.run, restore: plan.counts.restore, pending: plan.counts.pending, upToDate: plan.counts.upToDate },
          lastBuild: s.history.last() ?? null,
        },
        { json: opts.json },
      );
    });
  });

  common(program.command('why').description('is PATH up to date, and if not, the chain of changes that makes it dirty'))
    .argument('<path>', 'an output (or a source file) of the build')
    .action(async (target: string, opts: CommonOptions) => {
      await withSession(opts, async (s) => {
        const action = await s.findAction(target, process.cwd());
        if (!action) {
          throw new WhyError(target, s.project.root);
        }
        const { graph } = await s.graph();
        const all = await s.plan(new Set(graph.actions.keys()));
        const node = whyNode(action.id, all, graph, new Set());
        const last = s.traces.lastRun(action.id);
        const previous = s.traces.previousRun(action.id);
        const changes = last && previous ? runChanges(previous, last).map((r) => ({ ...r, text: describeReason(r) })) : [];
        printWhy(
          {
            path: target,
            ...node,
            source: action.source,
            lastRun: last ? { finishedAt: last.finishedAt, knobs: last.context, durationMs: last.durationMs, changedSincePrevious: changes } : null,
          },
          { json: opts.json },
        );
      });
    });

  common(program.command('clean').description("remove the build folder's outputs (the store keeps them for later restores)"))
    .option('--all', 'also remove the database and the store')
    .action(async (opts: CommonOptions & { all?: boolean }) => {
      await withSession(opts, async (s) => {
        const removed = s.clean(Boolean(opts.all));
        if (opts.json) process.stdout.write(JSON.stringify({ ok: true, removed }) + '\n');
        else process.stdout.write(removed.length ? `removed ${removed.join(', ')}\n` : 'nothing to remove\n');
      });
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    const json = argv.includes('--json');
    if (isOsvdError(err)) {
      if (json) process.stdout.write(JSON.stringify({ ok: false, error: err.toJSON() }) + '\n');
      else process.stderr.write(`osvd: ${err.describe()}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

class WhyError extends OsvdError {
  constructor(target: string, root: string) {
    super('WHY_UNKNOWN_PATH', `'${target}' is neither an output nor a source of the build of ${root}`, {
      field: 'PATH',
      hint: 'give a path relative to the tree (or the current folder), e.g. build/release.x64/loader.elf',
    });
  }
}

function whyNode(id: string, plan: Plan, graph: { get(id: string): { kind: string; outputs: readonly string[] } }, seen: Set<string>): WhyNode {
  seen.add(id);
  const entry = plan.entries.get(id)!;
  const action = graph.get(id);
  const reasons = entry.reasons.map((r: DirtyReason) => ({ ...r, text: describeReason(r) }));
  const upstream: WhyNode[] = [];
  for (const r of entry.reasons) {
    if (r.type === 'pendingInput' && !seen.has(r.producer) && upstream.length < 5) upstream.push(whyNode(r.producer, plan, graph, seen));
  }
  return { action: id, output: action.outputs[0] ?? id, kind: action.kind, state: entry.state as PlanState, upToDate: entry.state === 'upToDate', reasons, upstream };
}
