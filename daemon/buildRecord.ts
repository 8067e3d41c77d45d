import { stripAnsi } from '../base/ansi.js';
import type { BuildResult } from '../graph/builder.js';
import type { RemoteCacheReport } from './session.js';
import { timelineOf, type BuildTimeline } from '../graph/timeline.js';
import type { LoadedGraph, Session } from './session.js';

/**
 * What a build leaves behind once its actions are done: the history with the build's timeline, the
 * counters of osvd stats, and the log (with what its commands printed). compile_commands.json and the
 * store's cap are the session's tidying (Session.tidy), which a daemon does after it answers.
 */
export function recordFinishedBuild(s: Session, loaded: LoadedGraph, result: BuildResult, startedAt: number, jobs: number): void {
  try {
    s.counters.addBuild(result);
  } catch (err) {
    s.log.warn({ err }, 'could not add to the counters of osvd stats');
  }
  for (const e of result.ran) if (e.printed) s.log.info({ action: e.id, printed: stripAnsi(e.printed) }, 'command output');
  for (const f of result.failed) s.log.warn({ action: f.id, exitCode: f.exitCode, command: f.command, printed: f.message }, 'action failed');
  const more = { raced: result.racedBecause, stopped: result.stopped, ...(result.distributed ? { distributed: result.distributed } : {}) };
  // Launched compiles run beside the local jobs: the timeline has a row for each slot of both.
  recordSummary(s, loaded, result, startedAt, more, timelineOf(result, jobs + (result.distributed?.slots ?? 0)));
}

/** A build found nothing to do without deciding anything (the daemon's plan said so): record it. */
export function recordUpToDate(s: Session, loaded: LoadedGraph, ms: number, jobs: number, scope?: ReadonlySet<string>): BuildResult {
  const result: BuildResult = { ok: true, ran: [], restored: [], cutoff: [], upToDate: scope?.size ?? loaded.graph.actions.size, failed: [], skipped: [], raced: [], racedBecause: {}, durationMs: ms, stopped: false, jobs: { limit: jobs, peak: 0 } };
  s.writeCompileCommands(loaded);
  recordSummary(s, loaded, result, Date.now() - Math.round(result.durationMs), {});
  s.counters.add({ builds: 1, upToDate: result.upToDate });
  return result;
}

/** What the shared cache did in a build, added to the counters of osvd stats (uploads as far as done then). */
export function countShared(s: Session, r: RemoteCacheReport): void {
  const { hits, misses, uploads, skipped, errors, bytesDown, bytesUp } = r;
  try {
    s.counters.add({ 'shared.hits': hits, 'shared.misses': misses, 'shared.uploads': uploads, 'shared.skipped': skipped, 'shared.errors': errors, 'shared.bytesDown': bytesDown, 'shared.bytesUp': bytesUp });
  } catch (err) {
    s.log.warn({ err }, 'could not add to the counters of osvd stats');
  }
}

/** The build's summary, in the history and the log. */
function recordSummary(s: Session, loaded: LoadedGraph, result: BuildResult, startedAt: number, more: object, timeline?: BuildTimeline): void {
  const summary = {
    startedAt,
    finishedAt: Date.now(),
    ok: result.ok,
    ran: result.ran.length,
    restored: result.restored.length,
    cutoff: result.cutoff.length,
    upToDate: result.upToDate,
    failed: result.failed.length,
    durationMs: Math.round(result.durationMs),
    knobs: loaded.project.knobs,
    ranOutputs: result.ran.slice(0, 200).map((e) => e.output),
  };
  s.history.add(summary, timeline);
  s.log.info({ ...summary, ...more }, result.ran.length + result.restored.length + result.failed.length ? 'build finished' : 'build finished: up to date');
}
