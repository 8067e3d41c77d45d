import type { BuildResult } from '../graph/builder.js';
import type { DirtyReason } from '../graph/why.js';
import type { Db } from './db.js';

/** One finished build, as kept in the history. */
export interface BuildSummary {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly ok: boolean;
  readonly ran: number;
  readonly restored: number;
  readonly upToDate: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly knobs: Readonly<Record<string, string>>;
  /** What ran (the first 200 outputs), for status. */
  readonly ranOutputs?: readonly string[];
  readonly via?: string;
}

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

/** Only the last builds keep their timeline (one is about 200 bytes an action). */
const TIMELINES_KEPT = 3;
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

export class BuildHistory {
  constructor(private readonly db: Db) {}

  add(summary: BuildSummary, timeline?: BuildTimeline): void {
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO builds (started_at, finished_at, ok, summary) VALUES (?, ?, ?, ?)')
      .run(summary.startedAt, summary.finishedAt, summary.ok ? 1 : 0, JSON.stringify(summary));
    if (!timeline) return;
    this.db.prepare('INSERT INTO build_timelines (build_id, timeline) VALUES (?, ?)').run(lastInsertRowid, JSON.stringify(timeline));
    this.db.prepare('DELETE FROM build_timelines WHERE build_id NOT IN (SELECT build_id FROM build_timelines ORDER BY build_id DESC LIMIT ?)').run(TIMELINES_KEPT);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM builds').get() as { n: number }).n;
  }

  last(): BuildSummary | undefined {
    const row = this.db.prepare('SELECT summary FROM builds ORDER BY id DESC LIMIT 1').get() as { summary: string } | undefined;
    return row ? (JSON.parse(row.summary) as BuildSummary) : undefined;
  }

  /** The last build with its timeline (none when nothing was decided, as in the daemon's up-to-date builds). */
  lastWithTimeline(): { summary: BuildSummary; timeline: BuildTimeline | undefined } | undefined {
    const row = this.db
      .prepare('SELECT b.summary, t.timeline FROM builds b LEFT JOIN build_timelines t ON t.build_id = b.id ORDER BY b.id DESC LIMIT 1')
      .get() as { summary: string; timeline: string | null } | undefined;
    if (!row) return undefined;
    return { summary: JSON.parse(row.summary) as BuildSummary, timeline: row.timeline ? (JSON.parse(row.timeline) as BuildTimeline) : undefined };
  }
}
