import type { BuildResult } from '../graph/buildResult.js';
import { statement, type Db } from './db.js';

/**
 * Running totals across builds, for `osvd stats` (as ccache keeps its own): named counts added to
 * after each build, and when counting started (the first build, or the last `osvd stats --zero`).
 */
export class Counters {
  constructor(private readonly db: Db) {}

  /** Add to the named counts in one transaction; counting starts now if it had not. */
  add(deltas: Readonly<Record<string, number>>): void {
    const upsert = statement(this.db, 'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value');
    const since = statement(this.db, "INSERT OR IGNORE INTO counters (name, value) VALUES ('since', ?)");
    this.db.transaction(() => {
      since.run(Date.now());
      for (const [name, n] of Object.entries(deltas)) if (n !== 0) upsert.run(name, n);
    })();
  }

  /** Add a build's figures: by kind, what ran, was restored or failed; what was up to date and evicted. */
  addBuild(result: BuildResult): void {
    const deltas: Record<string, number> = { builds: 1, upToDate: result.upToDate, cutoff: result.cutoff.length };
    const add = (name: string): void => void (deltas[name] = (deltas[name] ?? 0) + 1);
    for (const e of result.ran) add(`ran.${e.kind}`);
    for (const e of result.restored) add(`restored.${e.kind}`);
    for (const e of result.failed) add(`failed.${e.kind}`);
    this.add(deltas);
  }

  all(): Record<string, number> {
    const rows = statement(this.db, 'SELECT name, value FROM counters').all() as { name: string; value: number }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /** Start counting afresh (the store itself is not touched). */
  zero(): void {
    this.db.transaction(() => {
      statement(this.db, 'DELETE FROM counters').run();
      statement(this.db, "INSERT INTO counters (name, value) VALUES ('since', ?)").run(Date.now());
    })();
  }
}
