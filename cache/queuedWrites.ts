import { racedPaths, type RaceCheck, type RunRecord } from '../graph/traces.js';

/** A write waiting for the next flush; a recorded run's comes with its race check. */
export interface QueuedWrite {
  readonly actionId: string;
  readonly op: () => void;
  readonly run?: RunRecord;
  readonly check?: RaceCheck;
  /** The action had a failure on record, which the write deletes. */
  readonly hadFailure?: boolean;
}

/**
 * The writes whose race check finds a path modified after their run started, with the paths (ten at
 * most). Each path is stat'ed once, however many of the writes name it: the compiles of a header step
 * name the same headers.
 */
export function racedWrites(writes: readonly QueuedWrite[]): Map<QueuedWrite, string[]> {
  const raced = new Map<QueuedWrite, string[]>();
  const times = new Map<string, number | null>();
  for (const w of writes) {
    if (!w.check) continue;
    const changed = racedPaths(w.check, times);
    if (changed.length > 0) raced.set(w, changed.slice(0, 10));
  }
  return raced;
}

/**
 * The writes not yet in the database, in order, with what the trace store asks of them before they
 * are written: the runs among them by pre-key (oldest first), the actions they are for, and the runs
 * whose race check has not run yet.
 */
export class WriteQueue {
  private writes: QueuedWrite[] = [];
  private readonly runsByPreKey = new Map<string, RunRecord[]>();
  private readonly actions = new Set<string>();
  private readonly unchecked = new Map<RunRecord, QueuedWrite>();

  get size(): number {
    return this.writes.length;
  }

  add(write: QueuedWrite): void {
    this.writes.push(write);
    this.actions.add(write.actionId);
    const run = write.run;
    if (!run) return;
    if (write.check) this.unchecked.set(run, write);
    const same = this.runsByPreKey.get(run.preKey);
    if (same) same.push(run);
    else this.runsByPreKey.set(run.preKey, [run]);
  }

  /** The queued runs of a pre-key, oldest first. */
  runsOf(preKey: string): readonly RunRecord[] {
    return this.runsByPreKey.get(preKey) ?? [];
  }

  hasAction(actionId: string): boolean {
    return this.actions.has(actionId);
  }

  /** The write of a queued run whose race check has not run yet, once (the caller checks it now). */
  takeUnchecked(run: RunRecord): QueuedWrite | undefined {
    const w = this.unchecked.get(run);
    if (w) this.unchecked.delete(run);
    return w;
  }

  /** Take a run's write out of the queue (its race check found a change). */
  remove(w: QueuedWrite): void {
    this.writes = this.writes.filter((q) => q !== w);
    const run = w.run;
    if (run) {
      this.unchecked.delete(run);
      const same = this.runsByPreKey.get(run.preKey)?.filter((r) => r !== run);
      if (same?.length) this.runsByPreKey.set(run.preKey, same);
      else this.runsByPreKey.delete(run.preKey);
    }
    if (!this.writes.some((q) => q.actionId === w.actionId)) this.actions.delete(w.actionId);
  }

  /** Every write, in order; the queue is then empty. */
  takeAll(): QueuedWrite[] {
    const writes = this.writes;
    this.writes = [];
    this.runsByPreKey.clear();
    this.actions.clear();
    this.unchecked.clear();
    return writes;
  }

  /** Writes taken by takeAll that could not be written: back ahead of those queued since. */
  putBack(writes: readonly QueuedWrite[]): void {
    for (const w of [...writes, ...this.takeAll()]) this.add(w);
  }
}
