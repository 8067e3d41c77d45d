import type { BuildTimeline } from '../graph/timeline.js';
import { statement, type Db } from './db.js';

/** One finished build, as kept in the history. */
export interface BuildSummary {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly ok: boolean;
  readonly ran: number;
  readonly restored: number;
  /** Compiles that did not run: preprocessed input unchanged. */
  readonly cutoff?: number;
  readonly upToDate: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly knobs: Readonly<Record<string, string>>;
  /** What ran (the first 200 outputs), for status. */
  readonly ranOutputs?: readonly string[];
  readonly via?: string;
}

/** Only the last builds keep their timeline (about 200 bytes an action). */
const TIMELINES_KEPT = 3;

export class BuildHistory {
  constructor(private readonly db: Db) {}

  /** In one transaction (each statement outside one is a commit of its own). */
  add(summary: BuildSummary, timeline?: BuildTimeline): void {
    this.db.transaction(() => {
      const { lastInsertRowid } = statement(this.db, 'INSERT INTO builds (started_at, finished_at, ok, summary) VALUES (?, ?, ?, ?)').run(
        summary.startedAt,
        summary.finishedAt,
        summary.ok ? 1 : 0,
        JSON.stringify(summary),
      );
      if (!timeline) return;
      statement(this.db, 'INSERT INTO build_timelines (build_id, timeline) VALUES (?, ?)').run(lastInsertRowid, JSON.stringify(timeline));
      statement(this.db, 'DELETE FROM build_timelines WHERE build_id NOT IN (SELECT build_id FROM build_timelines ORDER BY build_id DESC LIMIT ?)').run(TIMELINES_KEPT);
    })();
  }

  /** Rows are never deleted, so the last id is the count (COUNT(*) reads every row: status asks this). */
  count(): number {
    return (statement(this.db, 'SELECT COALESCE(MAX(id), 0) AS n FROM builds').get() as { n: number }).n;
  }

  last(): BuildSummary | undefined {
    const row = statement(this.db, 'SELECT summary FROM builds ORDER BY id DESC LIMIT 1').get() as { summary: string } | undefined;
    return row ? (JSON.parse(row.summary) as BuildSummary) : undefined;
  }

  /** Every build's summary, oldest first. */
  summaries(): BuildSummary[] {
    const rows = statement(this.db, 'SELECT summary FROM builds ORDER BY id').all() as { summary: string }[];
    return rows.map((r) => JSON.parse(r.summary) as BuildSummary);
  }

  /** The last build with its timeline (none when nothing was decided, as in the daemon's up-to-date builds). */
  lastWithTimeline(): { summary: BuildSummary; timeline: BuildTimeline | undefined } | undefined {
    const row = statement(this.db, 'SELECT b.summary, t.timeline FROM builds b LEFT JOIN build_timelines t ON t.build_id = b.id ORDER BY b.id DESC LIMIT 1')
      .get() as { summary: string; timeline: string | null } | undefined;
    if (!row) return undefined;
    return { summary: JSON.parse(row.summary) as BuildSummary, timeline: row.timeline ? (JSON.parse(row.timeline) as BuildTimeline) : undefined };
  }
}
