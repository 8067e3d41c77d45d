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
  const mtimes = new Map<string, number | null>();
  for (const w of writes) {
    if (!w.check) continue;
    const changed = racedPaths(w.check, mtimes);
    if (changed.length > 0) raced.set(w, changed.slice(0, 10));
  }
  return raced;
}
