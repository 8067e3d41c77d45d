import type { Action, BuildContext, FileHash, OutputRecord } from './action.js';
import { actionKey } from './rebuilder.js';

/**
 * What the rebuilder needs from persistent state, as interfaces: cache/ implements them with SQLite,
 * graph/ never sees a database.
 */

/** Content hashes of files, by path; null when the file does not exist. */
export interface FileHasher {
  hash(path: string): string | null;
  /**
   * The hash of the file as it is now: looked at again, and read again only when its stat changed
   * since it was hashed (or it was hashed too soon after a change for the stat to vouch for it).
   */
  hashNow(path: string): string | null;
  /** Forget what is known about a path (it was just written). */
  invalidate(path: string): void;
  /** Hash, mode and size of a file an action wrote; null when it does not exist. */
  describe(path: string): OutputRecord | null;
  /**
   * When the file last changed, in milliseconds by the kernel's clock (its change time: every write,
   * touch or rename sets it to now; a modification time can be set to anything, by `touch -d`, tar or
   * a clock ahead elsewhere); null when the file does not exist.
   */
  changedMs(path: string): number | null;
}

/**
 * One verified trace, in the manner of ccache's direct mode: for a given pre-key (command, environment,
 * declared inputs), the discovered dependencies with the hashes they had, and what the action wrote.
 */
export interface TraceEntry {
  readonly key: string;
  readonly deps: readonly FileHash[];
  readonly outputs: readonly OutputRecord[];
  /** The run that made this trace: adopted as the action's last run when the trace is restored. */
  readonly run: RunRecord;
}

/** The last successful run of an action, kept to explain why it is dirty now. */
export interface RunRecord {
  readonly actionId: string;
  readonly key: string;
  readonly preKey: string;
  readonly commands: readonly string[];
  readonly keyEnv: Readonly<Record<string, string>>;
  readonly inputs: readonly FileHash[];
  readonly deps: readonly FileHash[];
  readonly outputs: readonly OutputRecord[];
  readonly context: BuildContext;
  readonly durationMs: number;
  readonly finishedAt: number;
  /** What the commands printed (warnings, as a rule), without terminal escapes; absent when nothing. */
  readonly printed?: string;
  /** For a compile with a preprocess recipe: what preprocessing it gave (see preprocessCutoff.ts). */
  readonly preprocessed?: Preprocessed;
  /** The compile did not run: its preprocessed output was the one its outputs were built from. */
  readonly cutoff?: true;
}

/**
 * What a successful run found, however it was had: its commands ran (runAndRecord.ts), a shared trace
 * was fetched (the remote cache), or preprocessing showed the last outputs still right (preprocessCutoff.ts).
 */
export type RunFindings = Omit<RunRecord, 'actionId' | 'key' | 'preKey' | 'commands' | 'keyEnv' | 'finishedAt'>;

/**
 * The record of a successful run of `action` under `preKey`, finished now, for `TraceStore.recordRun`:
 * its key is the pre-key with the dependencies found. The fields keep one order, the stored JSON's.
 */
export function runRecordOf(action: Action, preKey: string, found: RunFindings): RunRecord {
  const { inputs, deps, outputs, context, durationMs, ...more } = found;
  return {
    actionId: action.id,
    key: actionKey(preKey, deps),
    preKey,
    commands: action.commands,
    keyEnv: action.keyEnv,
    inputs,
    deps,
    outputs,
    context,
    durationMs,
    finishedAt: Date.now(),
    ...more,
  };
}

/**
 * Preprocessing a compile's translation unit: how long it took, and the output's hash when the outputs
 * were built from that output (absent when it was not preprocessed with these inputs); `refused` when
 * the preprocessor said the output cannot stand for the object (__DATE__, `.incbin`, an error);
 * `predicted` when it was not done, `ms` being what it was predicted to cost (preprocessCosts.ts).
 */
export interface Preprocessed {
  readonly ms: number;
  readonly hash?: string;
  readonly refused?: true;
  readonly predicted?: true;
}

/**
 * A file's change time comes from the kernel's coarse clock, up to a tick (10 ms at HZ=100)
 * behind the time a process reads: a file written just after a run started can carry an earlier time.
 * Race checks count a change to a source from this long before the run started (a needless rerun at
 * worst). Not to a file an action of the build makes: its maker finished before the reader started,
 * often a few milliseconds before, and such a file would never be trusted.
 */
export const CLOCK_SLACK_MS = 20;

/** Since when a change to `path` counts as made while a run that started at `startedAt` read it. */
export function raceWindowStart(startedAt: number, made: boolean): number {
  return made ? startedAt : startedAt - CLOCK_SLACK_MS;
}

/** What a run read that must not have changed while it ran (see TraceStore.recordRun). */
export interface RaceCheck {
  /** When the run started (Date.now()). */
  readonly startedAt: number;
  /** What it read that no action of the build makes (compared from CLOCK_SLACK_MS earlier). */
  readonly paths: readonly string[];
  /** What it read that an action of the build makes (compared from startedAt). */
  readonly made: readonly string[];
  /** When a path last changed (ms, see FileHasher.changedMs), null when it is missing. */
  changedMs(path: string): number | null;
}

/**
 * The paths `check` names that were modified after its run started (see raceWindowStart). `times`,
 * when given, keeps each path's stat for the next checks (a header step's compiles name the same headers).
 */
export function racedPaths(check: RaceCheck, times?: Map<string, number | null>): string[] {
  const changed: string[] = [];
  const look = (paths: readonly string[], since: number): void => {
    for (const p of paths) {
      let m = times?.get(p);
      if (m === undefined) {
        m = check.changedMs(p);
        times?.set(p, m);
      }
      if (m !== null && m > since) changed.push(p);
    }
  };
  look(check.paths, raceWindowStart(check.startedAt, false));
  look(check.made, raceWindowStart(check.startedAt, true));
  return changed;
}

/** A run dropped by its race check, and the paths (ten at most) that changed. */
export interface LateRace {
  readonly actionId: string;
  readonly paths: readonly string[];
}

export interface TraceStore {
  /**
   * The newest trace for `preKey` whose dependencies all still hash as recorded. `inputs`: the action's
   * declared inputs with their hashes now, which the pre-key commits to: a store may keep traces
   * without them (a link's are its tens of thousands of objects) and give the matching run these.
   */
  findMatch(preKey: string, currentHash: (path: string) => string | null, inputs: readonly FileHash[]): TraceEntry | undefined;
  lastRun(actionId: string): RunRecord | undefined;
  /** The run before the last one, to say what changed between them. */
  previousRun(actionId: string): RunRecord | undefined;
  /**
   * Record a successful run: its trace (restorable by key) and, as the action's last run, its record.
   * With `check`, the run is kept only if none of `check.paths` was modified after `check.startedAt`,
   * looked at when the record is written (at the latest by settleRaces): a file that changed while the
   * run read it makes the run untrustworthy. Looked at then, each path is stat'ed once for all the runs
   * written together (a header step's compiles name the same headers), not once a run.
   */
  recordRun(run: RunRecord, check?: RaceCheck): void;
  /** Write what recordRun holds now; the runs it dropped since the last call, with the paths that changed. */
  settleRaces(): readonly LateRace[];
  /** Make a restored trace's run the action's last run, so `why` compares with what is on disk. */
  adoptRun(run: RunRecord): void;
  /** Record that the last attempt of an action failed, so nothing trusts its outputs. */
  recordFailure(actionId: string, message: string): void;
  lastFailure(actionId: string): string | undefined;
}

/** The content-addressed store of outputs. */
export interface OutputStore {
  has(hash: string): boolean;
  /** Keep a copy of the file at `path`, whose content hashes to `record.hash`. */
  save(record: OutputRecord): void;
  /** Put the recorded content back at `record.path`; false when the store has no good copy. */
  restore(record: OutputRecord): boolean;
}
