import type { Action, FileHash } from '../graph/action.js';
import type { LateRace, RaceCheck, RunRecord, TraceEntry, TraceStore } from '../graph/traces.js';
import type { Db } from './db.js';
import { racedWrites, WriteQueue, type QueuedWrite } from './queuedWrites.js';
import { rowidPages } from './rowidPages.js';
import { StringPool } from './strings.js';

/** Keep this many traces per pre-key: enough to go back and forth between a few configurations. */
const TRACES_PER_PREKEY = 16;

/** Writes are batched: one transaction for this many runs, or for what came within FLUSH_MS. */
const BATCH_RUNS = 256;
const FLUSH_MS = 100;

/**
 * Pre-keys whose traces stay decoded in memory (least recently looked up dropped first). An edited
 * header sends every includer to its traces at each build; reading and decoding them again each time
 * was the daemon's largest cost in a header step (about 1 ms an action at 16 traces).
 */
const MEMO_TRACES = 4096;

/** A trace as findMatch holds it: its deps decoded (strings shared); its record without inputs, when in memory (else read on a match). */
interface MemoTrace {
  readonly key: string;
  readonly deps: readonly FileHash[];
  readonly record?: RunRecord;
}

/** Below this many last runs to read, preloadLastRuns leaves them to be read one by one. */
const PRELOAD_MIN = 1000;
/** preloadLastRuns reads this many rows at a time (~60 ms of decoding at 50,000 TUs), pausing between. */
const PRELOAD_PAGE = 1000;

/**
 * Verifying traces and last runs, in SQLite. Runs are written in batches (a transaction per run cost
 * about a millisecond of the builder's thread per action); until a batch is written they are answered
 * from memory. A crash loses at most the last batch: those actions simply run again.
 */
export class TraceDb implements TraceStore {
  private readonly byPreKey;
  private readonly selectTrace;
  private readonly insertTrace;
  private readonly pruneTraces;
  private readonly selectLast;
  private readonly upsertLast;
  private readonly selectFailure;
  private readonly upsertFailure;
  private readonly deleteFailure;
  private readonly lastRuns = new Map<string, RunRecord | null>();
  private readonly pairs = new Map<string, FileHash>();
  private readonly objects = new Map<string, object>();
  /** The graph's actions (see adoptActions), not kept alive for this: a graph let go shares nothing. */
  private graphActions: WeakRef<ReadonlyMap<string, Action>> | undefined;
  /** Writes not yet in the database (a queued run's race check runs when it is first used, else when written). */
  private readonly queue = new WriteQueue();
  /** Runs dropped by their race check since settleRaces() last took them. */
  private raced: LateRace[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Traces a pre-key had when findMatch last looked (a run recorded for it then knows whether to prune). */
  private readonly tracesSeen = new Map<string, number>();
  /** Actions with a recorded failure (so that recording a run deletes one only when there is one). */
  private readonly failedActions: Set<string>;
  /** Traces by pre-key, newest first, as the database holds them once the queue is written (Map order: least recently used first). */
  private readonly memo = new Map<string, MemoTrace[]>();
  private memoTraces = 0;
  private lastCreatedAt = 0;

  /** `pool`: shared with the file-hash memo (see StringPool). */
  constructor(
    private readonly db: Db,
    private readonly pool: StringPool = new StringPool(),
  ) {
    this.byPreKey = db.prepare('SELECT key, deps FROM traces WHERE pre_key = ? ORDER BY created_at DESC, rowid DESC');
    this.selectTrace = db.prepare('SELECT record FROM traces WHERE pre_key = ? AND key = ?');
    this.insertTrace = db.prepare(
      'INSERT INTO traces (pre_key, key, deps, record, created_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT(pre_key, key) DO UPDATE SET record = excluded.record, created_at = excluded.created_at',
    );
    this.pruneTraces = db.prepare(
      'DELETE FROM traces WHERE pre_key = ? AND key NOT IN (SELECT key FROM traces WHERE pre_key = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)',
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
    this.failedActions = new Set((db.prepare('SELECT action_id FROM failures').all() as { action_id: string }[]).map((r) => r.action_id));
  }

  findMatch(preKey: string, currentHash: (path: string) => string | null, inputs: readonly FileHash[]): TraceEntry | undefined {
    const queued = this.queue.runsOf(preKey);
    for (let i = queued.length - 1; i >= 0; i--) {
      const run = queued[i]!;
      if (!this.stillGood(run)) continue;
      if (run.deps.every(([p, h]) => (currentHash(p) ?? 'missing') === h)) return { key: run.key, deps: run.deps, outputs: run.outputs, run };
    }
    const traces = this.tracesOf(preKey);
    this.tracesSeen.set(preKey, traces.length + queued.length);
    for (const t of traces) {
      if (!t.deps.every(([p, h]) => (currentHash(p) ?? 'missing') === h)) continue;
      const row = t.record ? undefined : (this.selectTrace.get(preKey, t.key) as { record: string } | undefined);
      const kept = t.record ?? (row ? (JSON.parse(row.record) as RunRecord) : undefined);
      // A trace is kept without its inputs, here and in the file (see recordRun): they are the ones the pre-key commits to.
      // Nor its deps (the row's deps column; an older database's record has them too).
      if (kept) return { key: t.key, deps: t.deps, outputs: kept.outputs, run: { ...kept, deps: t.deps, inputs } };
    }
    return undefined;
  }

  /** The pre-key's traces, newest first: from the memo, or read and decoded once. */
  private tracesOf(preKey: string): readonly MemoTrace[] {
    const known = this.memo.get(preKey);
    if (known) {
      this.memo.delete(preKey);
      this.memo.set(preKey, known);
      return known;
    }
    const rows = this.byPreKey.all(preKey) as { key: string; deps: string }[];
    const one = (x: string): string => this.pool.one(x);
    const traces = rows.map((row) => ({ key: row.key, deps: (JSON.parse(row.deps) as FileHash[]).map(([p, h]) => [one(p), one(h)] as const) }));
    this.memorize(preKey, traces);
    return traces;
  }

  /** A run recorded for a pre-key the memo holds: first, in place of an older trace with its key, pruned as the database is. */
  private remember(run: RunRecord): void {
    const traces = this.memo.get(run.preKey);
    if (!traces) return;
    const kept = traces.filter((t) => t.key !== run.key).slice(0, TRACES_PER_PREKEY - 1);
    // Without its inputs: a relink has a new pre-key each time, and its tens of thousands of inputs held
    // once per relink would grow the daemon by megabytes a build.
    this.memorize(run.preKey, [{ key: run.key, deps: run.deps, record: run.inputs.length ? { ...run, inputs: [] } : run }, ...kept]);
  }

  private memorize(preKey: string, traces: MemoTrace[]): void {
    this.memoTraces += traces.length - (this.memo.get(preKey)?.length ?? 0);
    this.memo.delete(preKey);
    this.memo.set(preKey, traces);
    for (const [oldest, dropped] of this.memo) {
      if (this.memoTraces <= MEMO_TRACES || oldest === preKey) break;
      this.memo.delete(oldest);
      this.memoTraces -= dropped.length;
    }
  }

  lastRun(actionId: string): RunRecord | undefined {
    const known = this.lastRuns.get(actionId);
    if (known) this.stillGood(known);
    if (!this.lastRuns.has(actionId)) {
      const row = this.selectLast.get(actionId) as { record: string } | undefined;
      this.lastRuns.set(actionId, row ? this.shared(JSON.parse(row.record) as RunRecord) : null);
    }
    return this.lastRuns.get(actionId) ?? undefined;
  }

  /**
   * Drop the tables that make last runs share their strings and pairs, keeping what they share: call
   * once every last run is loaded (the daemon, after planning); a last run loaded later simply shares less.
   */
  compact(): void {
    this.pool.clear();
    this.pairs.clear();
    this.objects.clear();
  }

  /** Forget the last runs cached in memory (they are read again on demand). */
  clearCache(): void {
    this.lastRuns.clear();
    this.memo.clear();
    this.memoTraces = 0;
    this.pool.clear();
    this.pairs.clear();
    this.objects.clear();
  }

  /**
   * The graph's actions: a last run decoded from JSON shares its action's name, commands (the list
   * itself when it is the same) and output paths instead of keeping a copy of each. Called when a
   * graph is loaded. At 50,000 TUs a map of the graph's strings for this took 7 MB.
   */
  adoptActions(actions: ReadonlyMap<string, Action>): void {
    this.graphActions = new WeakRef(actions);
  }

  /**
   * Read the last runs of these actions that are not in memory yet in one pass over the table, when
   * there are many (a graph being made asks for each of its actions'): on the 10,000-TU tree a query
   * each took ~175 ms in all, one pass ~74 ms (parsing apart). The pass goes a page of rows at a time
   * in the table's order (rowid), awaiting `pause` between pages: the daemon answers meanwhile (at
   * 50,000 TUs the pass and its decoding take ~3 s). A run this process writes meanwhile is in memory
   * already and wins over the row.
   */
  async preloadLastRuns(ids: ReadonlyMap<string, unknown>, pause?: () => Promise<void>): Promise<void> {
    let unknown = 0;
    for (const id of ids.keys()) if (!this.lastRuns.has(id)) unknown++;
    if (unknown < PRELOAD_MIN) return;
    for (const page of rowidPages(this.db, 'last_runs', 'action_id, record', PRELOAD_PAGE)) {
      for (const [, id, record] of page.rows as [number, string, string][]) {
        if (ids.has(id) && !this.lastRuns.has(id)) this.lastRuns.set(id, this.shared(JSON.parse(record) as RunRecord));
      }
      if (!page.last && pause) await pause();
    }
    for (const id of ids.keys()) if (!this.lastRuns.has(id)) this.lastRuns.set(id, null);
  }

  /**
   * The daemon holds every action's last run. Their depfiles name the same headers with the same
   * hashes tens of thousands of times over; decoded from JSON each is a string, and each pair an array,
   * of its own. One copy of each string, each (path, hash) pair
   * and each knob set is kept instead, and commands are the graph's own.
   */
  private shared(run: RunRecord): RunRecord {
    const one = (s: string): string => this.pool.one(s);
    const pair = (p: string, h: string): FileHash => {
      const key = `${p}\n${h}`;
      const known = this.pairs.get(key);
      if (known !== undefined) return known;
      const made = Object.freeze([one(p), one(h)] as const);
      this.pairs.set(key, made);
      return made;
    };
    const object = <T extends object>(o: T): T => {
      const key = JSON.stringify(o);
      const known = this.objects.get(key);
      if (known !== undefined) return known as T;
      this.objects.set(key, o);
      return o;
    };
    const pairs = (list: readonly FileHash[]): FileHash[] => list.map(([p, h]) => pair(p, h));
    const action = this.graphActions?.deref()?.get(run.actionId);
    const graphs = (x: string): string => action?.outputs.find((o) => o === x) ?? x;
    const sameCommands = action !== undefined && action.commands.length === run.commands.length && action.commands.every((c, i) => c === run.commands[i]);
    return {
      ...run,
      actionId: action?.id ?? run.actionId,
      commands: sameCommands ? action.commands : run.commands,
      keyEnv: object(run.keyEnv),
      context: object(run.context),
      inputs: pairs(run.inputs),
      deps: pairs(run.deps),
      outputs: run.outputs.map((o) => ({ path: graphs(o.path), hash: one(o.hash), mode: o.mode, size: o.size })),
    };
  }

  previousRun(actionId: string): RunRecord | undefined {
    this.flush();
    const row = this.db.prepare('SELECT previous FROM last_runs WHERE action_id = ?').get(actionId) as { previous: string | null } | undefined;
    return row?.previous ? (JSON.parse(row.previous) as RunRecord) : undefined;
  }

  recordRun(run: RunRecord, check?: RaceCheck): void {
    // Strictly increasing: traces recorded within one millisecond keep their order (newest first, pruned last).
    const createdAt = (this.lastCreatedAt = Math.max(Date.now(), this.lastCreatedAt + 1));
    // findMatch saw how many traces this pre-key had: pruning is needed only when that may be too many.
    const known = this.tracesSeen.get(run.preKey);
    this.tracesSeen.delete(run.preKey);
    const prune = known === undefined || known + 1 > TRACES_PER_PREKEY;
    const failed = this.failedActions.delete(run.actionId);
    const op = (): void => {
      // The trace without the inputs: its pre-key commits to them, and a link's are its objects (1.4 MB
      // at 10,000 TUs, a new pre-key and so a new trace at each relink, never pruned by TRACES_PER_PREKEY).
      // Nor its deps: they are the row's own column (a third of the record). The rest is encoded once
      // for both records (the deps and inputs go last).
      const { inputs, deps, ...rest } = run;
      const body = JSON.stringify(rest).slice(0, -1);
      const depsJson = JSON.stringify(deps);
      const trace = `${body},"deps":[],"inputs":[]}`;
      const record = `${body},"deps":${depsJson},"inputs":${inputs.length ? JSON.stringify(inputs) : '[]'}}`;
      this.insertTrace.run(run.preKey, run.key, depsJson, trace, createdAt);
      if (prune) this.pruneTraces.run(run.preKey, run.preKey, TRACES_PER_PREKEY);
      this.upsertLast.run(run.actionId, record, run.durationMs, run.finishedAt);
      if (failed) this.deleteFailure.run(run.actionId);
    };
    this.enqueue({ actionId: run.actionId, op, run, check: check && check.paths.length + check.made.length > 0 ? check : undefined, hadFailure: failed });
    this.remember(run);
    this.lastRuns.set(run.actionId, run);
  }

  adoptRun(run: RunRecord): void {
    if (this.lastRun(run.actionId)?.key === run.key) return;
    const failed = this.failedActions.delete(run.actionId);
    this.enqueue({
      actionId: run.actionId,
      op: () => {
        this.upsertLast.run(run.actionId, JSON.stringify(run), run.durationMs, run.finishedAt);
        if (failed) this.deleteFailure.run(run.actionId);
      },
    });
    this.lastRuns.set(run.actionId, run);
  }

  recordFailure(actionId: string, message: string): void {
    this.flush();
    this.failedActions.add(actionId);
    this.upsertFailure.run(actionId, message.slice(0, 16_384), Date.now());
  }

  lastFailure(actionId: string): string | undefined {
    // A queued run is newer than any failure (recording a failure writes the queue first).
    if (this.queue.hasAction(actionId)) return undefined;
    return (this.selectFailure.get(actionId) as { message: string } | undefined)?.message;
  }

  settleRaces(): readonly LateRace[] {
    this.flush();
    const raced = this.raced;
    this.raced = [];
    return raced;
  }

  /** Write the queued runs, in one transaction, less those whose race check finds a change. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.size === 0) return;
    const writes = this.queue.takeAll();
    const dropped = this.racedAmong(writes);
    for (const w of dropped) this.unrecord(w);
    if (!this.db.open) return;
    const kept = dropped.size ? writes.filter((w) => !dropped.has(w)) : writes;
    try {
      this.db.transaction(() => {
        for (const w of kept) w.op();
      })();
    } catch (err) {
      // Nothing was written (a full disk, say): the runs wait in the queue, older than any queued
      // since, for the next flush, which a build's end makes and which says why if it fails again.
      this.queue.putBack(kept);
      throw err;
    }
  }

  /** The flush the timer makes: a failure stays queued for the next flush rather than end the process. */
  private flushLater(): void {
    try {
      this.flush();
    } catch {
      // requeued by flush; the build's own flush at its end fails with the database's error
    }
  }

  /** The writes whose race check finds a change (noted for settleRaces). */
  private racedAmong(writes: readonly QueuedWrite[]): Set<QueuedWrite> {
    const dropped = racedWrites(writes);
    for (const [w, paths] of dropped) this.raced.push({ actionId: w.actionId, paths });
    return new Set(dropped.keys());
  }

  /**
   * A queued run asked for before it is written (the daemon deciding again on an edit made during the
   * build) is checked then: a run a header changed under is dropped at once, never answered.
   */
  private stillGood(run: RunRecord): boolean {
    const w = this.queue.takeUnchecked(run);
    if (!w) return true;
    const dropped = this.racedAmong([w]);
    if (dropped.size === 0) return true;
    this.queue.remove(w);
    this.unrecord(w);
    return false;
  }

  /** A run dropped before it was written: what memory holds of it goes (read again from the database). */
  private unrecord(w: QueuedWrite): void {
    const run = w.run!;
    if (this.lastRuns.get(run.actionId) === run) this.lastRuns.delete(run.actionId);
    const traces = this.memo.get(run.preKey);
    if (traces) {
      this.memo.delete(run.preKey);
      this.memoTraces -= traces.length;
    }
    if (w.hadFailure) this.failedActions.add(run.actionId);
  }

  private enqueue(write: QueuedWrite): void {
    this.queue.add(write);
    if (this.queue.size >= BATCH_RUNS) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flushLater(), FLUSH_MS);
      this.timer.unref();
    }
  }
}
