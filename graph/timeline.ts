import type { BuildResult } from './builder.js';
import type { DirtyReason } from './why.js';

/**
 * What a build did, action by action: kept in the history for `osvd report` and its trace, and read by
 * view/. Made from the builder's result once the build has finished.
 */

/** One action's part in a build: when it ran (ms since the build started) and in which job slot. */
export interface TimelineEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: string;
  readonly state: 'ran' | 'failed' | 'restored';
  /** The job slot (0-based) its commands ran in; restores take none. */
  readonly slot?: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly reason?: string;
  /** Why it ran, the first REASONS_KEPT reasons (the kernel link can have one per object). */
  readonly reasons?: readonly DirtyReason[];
}

/** What a build did, action by action, for `osvd report` and its trace file. */
export interface BuildTimeline {
  readonly jobs: number;
  readonly actions: readonly TimelineEntry[];
  /** Ids of the actions on the build's critical path, first to last. */
  readonly criticalPath: readonly string[];
}

/** The kernel link can have one reason per object: the first thousand are kept. */
const REASONS_KEPT = 1000;

export function timelineOf(result: BuildResult, jobs: number): BuildTimeline {
  const ms = (n: number): number => Math.round(n * 10) / 10;
  const actions: TimelineEntry[] = [];
  for (const e of result.ran) {
    actions.push({ id: e.id, output: e.output, kind: e.kind, state: 'ran', slot: e.time.slot, startMs: ms(e.time.startMs), endMs: ms(e.time.endMs), reason: e.reason, reasons: e.reasons.slice(0, REASONS_KEPT) });
  }
  for (const e of result.failed) {
    actions.push({ id: e.id, output: e.output, kind: e.kind, state: 'failed', slot: e.time.slot, startMs: ms(e.time.startMs), endMs: ms(e.time.endMs), reason: e.message.split('\n')[0] });
  }
  for (const e of result.restored) actions.push({ id: e.id, output: e.output, kind: e.kind, state: 'restored', startMs: ms(e.time.startMs), endMs: ms(e.time.endMs) });
  actions.sort((a, b) => a.startMs - b.startMs);
  return { jobs, actions, criticalPath: result.criticalPath ?? [] };
}
