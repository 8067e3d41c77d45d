import type { FileHash } from '../graph/action.js';
import type { RunRecord, TraceEntry, TraceStore } from '../graph/traces.js';
import type { Db } from './db.js';

/** Keep this many traces per pre-key: enough to go back and forth between a few configurations. */
const TRACES_PER_PREKEY = 16;

/** Verifying traces and last runs, in SQLite. */
export class TraceDb implements TraceStore {
  private readonly byPreKey;
  private readonly insertTrace;
  private readonly pruneTraces;
  private readonly selectLast;
  private readonly upsertLast;
  private readonly selectFailure;
  private readonly upsertFailure;
  private readonly deleteFailure;
  private readonly lastRuns = new Map<string, RunRecord | null>();

  constructor(private readonly db: Db) {
    this.byPreKey = db.prepare('SELECT key, deps, record FROM traces WHERE pre_key = ? ORDER BY created_at DESC');
    this.insertTrace = db.prepare(
      'INSERT INTO traces (pre_key, key, deps, record, created_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT(pre_key, key) DO UPDATE SET record = excluded.record, created_at = excluded.created_at',
    );
    this.pruneTraces = db.prepare(
      'DELETE FROM traces WHERE pre_key = ? AND key NOT IN (SELECT key FROM traces WHERE pre_key = ? ORDER BY created_at DESC LIMIT ?)',
    );
    this.selectLast = db.prepare('SELECT record FROM last_runs WHERE action_id = ?');
    this.upsertLast = db.prepare(
      'INSERT INTO last_runs (action_id, record, previous, duration_ms, finished_at) VALUES (?, ?, NULL, ?, ?) ' +
        'ON CONFLICT(action_id) DO UPDATE SET previous = last_runs.record, record = excluded.record, duration_ms = excluded.duration_ms, finished_at = excluded.finished_at',
    );
    this.selectFailure = db.prepare('SELECT message FROM failures WHERE action_id = ?');
    this.upsertFailure = db.prepare(
      'INSERT INTO failures (action_id, message, at) VALUES (?, ?, ?) ON CONFLICT(action_id) DO UPDATE SET message = excluded.message, at = excluded.at',
    );
    this.deleteFailure = db.prepare('DELETE FROM failures WHERE action_id = ?');
  }

  findMatch(preKey: string, currentHash: (path: string) => string | null): TraceEntry | undefined {
    const rows = this.byPreKey.all(preKey) as { key: string; deps: string; record: string }[];
    for (const row of rows) {
      const deps = JSON.parse(row.deps) as FileHash[];
      if (deps.every(([p, h]) => (currentHash(p) ?? 'missing') === h)) {
        const run = JSON.parse(row.record) as RunRecord;
        return { key: row.key, deps, outputs: run.outputs, run };
      }
    }
    return undefined;
  }

  lastRun(actionId: string): RunRecord | undefined {
    if (!this.lastRuns.has(actionId)) {
      const row = this.selectLast.get(actionId) as { record: string } | undefined;
      this.lastRuns.set(actionId, row ? (JSON.parse(row.record) as RunRecord) : null);
    }
    return this.lastRuns.get(actionId) ?? undefined;
  }

  /** Forget the last runs cached in memory (they are read again on demand). */
  clearCache(): void {
    this.lastRuns.clear();
  }

  previousRun(actionId: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT previous FROM last_runs WHERE action_id = ?').get(actionId) as { previous: string | null } | undefined;
    return row?.previous ? (JSON.parse(row.previous) as RunRecord) : undefined;
  }

  recordRun(run: RunRecord): void {
    this.db.transaction(() => {
      this.insertTrace.run(run.preKey, run.key, JSON.stringify(run.deps), JSON.stringify(run), Date.now());
      this.pruneTraces.run(run.preKey, run.preKey, TRACES_PER_PREKEY);
      this.upsertLast.run(run.actionId, JSON.stringify(run), run.durationMs, run.finishedAt);
      this.deleteFailure.run(run.actionId);
    })();
    this.lastRuns.set(run.actionId, run);
  }

  adoptRun(run: RunRecord): void {
    if (this.lastRun(run.actionId)?.key === run.key) return;
    this.db.transaction(() => {
      this.upsertLast.run(run.actionId, JSON.stringify(run), run.durationMs, run.finishedAt);
      this.deleteFailure.run(run.actionId);
    })();
    this.lastRuns.set(run.actionId, run);
  }

  recordFailure(actionId: string, message: string): void {
    this.upsertFailure.run(actionId, message.slice(0, 16_384), Date.now());
  }

  lastFailure(actionId: string): string | undefined {
    return (this.selectFailure.get(actionId) as { message: string } | undefined)?.message;
  }
}
