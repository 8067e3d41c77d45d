import type { ProjectOptions } from '../osv/project.js';
import { buildReport, statusReport, whyReport, type BuildReport, type StatusReport, type WhyReport } from './answers.js';
import { Session } from './session.js';

/**
 * The commands when no daemon runs: open the tree's state in this process, answer, close.
 * (Loaded on demand, so that talking to a daemon never loads SQLite.)
 */
async function withSession<T>(opts: ProjectOptions, fn: (s: Session) => Promise<T> | T): Promise<T> {
  const session = await Session.open(opts);
  try {
    for (const w of session.warnings) process.stderr.write(`osvd: warning: ${w}\n`);
    return await fn(session);
  } finally {
    session.close();
  }
}

export function build(opts: ProjectOptions, sets: readonly string[], onEvent?: (e: unknown) => void): Promise<BuildReport> {
  return withSession(opts, async (s) => {
    const loaded = await s.graph(s.project(sets));
    const result = await s.build(loaded, onEvent);
    return buildReport(result, result.reloaded ?? loaded, 'one-shot');
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

export function clean(opts: ProjectOptions, sets: readonly string[], all: boolean): Promise<string[]> {
  return withSession(opts, (s) => s.clean(s.project(sets), all));
}

export function setKnobs(opts: ProjectOptions, sets: readonly string[], reset: boolean): Promise<{ knobs: Record<string, string>; liveKnobs: Record<string, string> }> {
  return withSession(opts, (s) => {
    const project = s.setKnobs(sets, reset);
    return { knobs: { ...project.knobs }, liveKnobs: s.liveKnobs() };
  });
}
