import { raceWindowStart, type RaceCheck, type RunRecord } from '../graph/traces.js';

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
    const check = w.check;
    if (!check) continue;
    const changed: string[] = [];
    const look = (paths: readonly string[], since: number): void => {
      for (const p of paths) {
        let m = mtimes.get(p);
        if (m === undefined) mtimes.set(p, (m = check.mtimeMs(p)));
        if (m !== null && m > since) changed.push(p);
      }
    };
    look(check.paths, raceWindowStart(check.startedAt, false));
    look(check.made, raceWindowStart(check.startedAt, true));
    if (changed.length > 0) raced.set(w, changed.slice(0, 10));
  }
  return raced;
}
