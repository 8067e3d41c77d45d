import type { Db } from './db.js';

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

export class BuildHistory {
  constructor(private readonly db: Db) {}

  add(summary: BuildSummary): void {
    this.db
      .prepare('INSERT INTO builds (started_at, finished_at, ok, summary) VALUES (?, ?, ?, ?)')
      .run(summary.startedAt, summary.finishedAt, summary.ok ? 1 : 0, JSON.stringify(summary));
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM builds').get() as { n: number }).n;
  }

  last(): BuildSummary | undefined {
    const row = this.db.prepare('SELECT summary FROM builds ORDER BY id DESC LIMIT 1').get() as { summary: string } | undefined;
    return row ? (JSON.parse(row.summary) as BuildSummary) : undefined;
  }
}
