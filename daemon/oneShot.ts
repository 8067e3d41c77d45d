import type { ProjectOptions } from '../osv/project.js';
import { buildReport, dryRunReport, resolveTargets, statusReport, whyReport, type BuildReport, type DryRunReport, type StatusReport, type WhyReport } from './answers.js';
import type { BuildRequest, ProgressEvent } from './buildChoices.js';
import { Session, type LockHolder } from './session.js';
import { statsReport, type StatsReport } from './stats.js';

/**
 * The commands when no daemon runs: open the tree's state in this process, answer, close (withSession,
 * which `osvd graph` and `osvd report` use too).
 * (Loaded on demand, so that talking to a daemon never loads SQLite.)
 */
export async function withSession<T>(opts: ProjectOptions, fn: (s: Session) => Promise<T> | T): Promise<T> {
  const session = await Session.open(opts);
  let answered = false;
  try {
    for (const w of session.warnings) warn(w);
    const answer = await fn(session);
    answered = true;
    return answer;
  } catch (err) {
    // A database that fails in use is named; a corrupt one is moved aside for the next command.
    const failure = session.databaseFailure(err);
    if (!failure) throw err;
    if (failure.corrupt) session.replaceDatabase(failure);
    throw failure;
  } finally {
    // The last writes (a full disk fails them too) are named when nothing failed before them.
    try {
      session.close();
    } catch (err) {
      if (answered) throw session.databaseFailure(err) ?? err;
    }
  }
}

function warn(text: string): void {
  process.stderr.write(`osvd: warning: ${text}\n`);
}

/** What a one-shot build is told while it waits for the tree's build lock. */
export type OnWait = (holder: LockHolder | undefined) => void;

/** The command line of this process, for whoever waits for its lock. */
function thisCommand(): string {
  return ['osvd', ...process.argv.slice(2)].join(' ');
}

export function build(
  opts: ProjectOptions,
  sets: readonly string[],
  onEvent: ((e: ProgressEvent) => void) | undefined,
  request: BuildRequest,
  onWait?: OnWait,
  signal?: AbortSignal,
): Promise<BuildReport> {
  return withSession(opts, async (s) => {
    const { lock } = await s.lockBuilds(thisCommand(), onWait, signal);
    try {
      // A database found corrupt in the middle is replaced and the build runs again, from scratch.
      return await s.recoveringDatabase(async () => {
        // The plan looks at every tracked file, none known yet in this process (see FileState.beginBulk).
        const files = s.files;
        files.beginBulk();
        try {
          const loaded = await s.graph(s.project(sets));
          const targets = request.targets?.length ? resolveTargets(s, loaded, request.targets, request.cwd ?? process.cwd()) : undefined;
          const result = await s.build(loaded, onEvent, 0, undefined, { targets, jobs: request.jobs, failureLimit: request.failureLimit, colour: request.colour, signal });
          return buildReport(result, result.reloaded ?? loaded, 'one-shot');
        } finally {
          files.endBulk();
        }
      }, warn);
    } finally {
      lock.release();
    }
  });
}

/** `osvd build -n`: the plan of the targets (or of everything), with reasons; nothing runs or is recorded. */
export function dryRun(opts: ProjectOptions, sets: readonly string[], request: BuildRequest): Promise<DryRunReport> {
  return withSession(opts, async (s) => {
    const loaded = await s.graph(s.project(sets));
    const targets = request.targets?.length ? resolveTargets(s, loaded, request.targets, request.cwd ?? process.cwd()) : undefined;
    const scope = targets ? loaded.graph.withUpstream(targets) : new Set(loaded.graph.actions.keys());
    return dryRunReport(loaded, s.plan(loaded, scope, scope), 'one-shot');
  });
}

/** `osvd stats`; `zero`: start counting afresh first. */
export function stats(opts: ProjectOptions, zero: boolean): Promise<StatsReport> {
  return withSession(opts, (s) => {
    if (zero) s.counters.zero();
    return statsReport(s);
  });
}

export function status(opts: ProjectOptions, sets: readonly string[]): Promise<StatusReport> {
  return withSession(opts, async (s) => {
    const loaded = await s.graph(s.project(sets));
    return statusReport(s, loaded, s.plan(loaded), { running: false, note: 'no daemon runs for this tree: answered from the database' }, null);
  });
}

export function why(opts: ProjectOptions, sets: readonly string[], target: string, cwd: string): Promise<WhyReport> {
  return withSession(opts, async (s) => whyReport(s, await s.graph(s.project(sets)), target, cwd));
}

/** Removing the build folder while a build writes into it would leave half of each: wait for the lock. */
export function clean(opts: ProjectOptions, sets: readonly string[], all: boolean, onWait?: OnWait): Promise<string[]> {
  return withSession(opts, async (s) => {
    const { lock } = await s.lockBuilds(thisCommand(), onWait);
    try {
      return s.clean(s.project(sets), all);
    } finally {
      lock.release();
    }
  });
}

export function setKnobs(opts: ProjectOptions, sets: readonly string[], reset: boolean): Promise<{ knobs: Record<string, string>; liveKnobs: Record<string, string> }> {
  return withSession(opts, (s) => {
    const project = s.setKnobs(sets, reset);
    return { knobs: { ...project.knobs }, liveKnobs: s.liveKnobs() };
  });
}
