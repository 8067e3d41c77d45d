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

/** Small keyed values that are expensive to recompute, such as the imported Makefile. */
export class ImportCache {
  constructor(private readonly db: Db, private readonly keep = 8) {}

  get(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM imports WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  put(key: string, value: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR REPLACE INTO imports (key, value, created_at) VALUES (?, ?, ?)').run(key, value, Date.now());
      this.db.prepare('DELETE FROM imports WHERE key NOT IN (SELECT key FROM imports ORDER BY created_at DESC LIMIT ?)').run(this.keep);
    })();
  }
}
