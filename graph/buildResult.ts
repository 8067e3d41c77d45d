import { primaryOutput, type Action, type ActionKind } from './action.js';
import type { ActionTime } from './criticalPath.js';
import { CUTOFF_REASON, type CutoffOutcome } from './preprocessCutoff.js';
import type { LaunchReport } from './launcher.js';
import type { RunOutcome } from './runAndRecord.js';
import type { LateRace } from './traces.js';
import type { DirtyReason } from './why.js';

/** What a build did (builder.ts): the actions that ran, were restored, cut off or failed, and its events. */

export interface RanEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
  readonly reason: string;
  readonly reasons: readonly DirtyReason[];
  readonly durationMs: number;
  /** When its commands started and ended (ms since the build started), and the job slot they ran in. */
  readonly time: SlotTime;
  /** What its commands printed (warnings), escapes and all; absent when nothing. */
  readonly printed?: string;
}

/** An action's place on the build's timeline: ms since the build started, and its job slot (0-based). */
export interface SlotTime extends ActionTime {
  readonly slot: number;
}

/** A compile that did not run: its preprocessed input was the one its outputs were built from. */
export interface CutoffEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
  readonly reason: typeof CUTOFF_REASON;
  /** The changes that made it a candidate: headers only. */
  readonly reasons: readonly DirtyReason[];
  /** How long preprocessing it took. */
  readonly durationMs: number;
  /** When it was preprocessed, and in which job slot. */
  readonly time: SlotTime;
}

export interface RestoredEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
  /** When its outputs were put back (ms since the build started); restores take no job slot. */
  readonly time: ActionTime;
}

export interface FailedEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
  readonly source?: string;
  readonly command?: string;
  readonly exitCode: number | null;
  readonly message: string;
  readonly time: SlotTime;
}

export interface BuildResult {
  readonly ok: boolean;
  readonly ran: RanEntry[];
  readonly restored: RestoredEntry[];
  /** Compiles not run: their preprocessed input was the one their outputs were built from. */
  readonly cutoff: CutoffEntry[];
  readonly upToDate: number;
  readonly failed: FailedEntry[];
  /** Actions not attempted because something they depend on failed. */
  readonly skipped: string[];
  /** Actions whose inputs changed while they ran: not recorded, they run again next time. */
  readonly raced: string[];
  /** For each raced action, the inputs (or discovered dependencies) that changed while it ran. */
  readonly racedBecause: Record<string, string[]>;
  readonly durationMs: number;
  /** The build stopped starting actions after its failure limit (see BuildOptions.failureLimit). */
  readonly stopped: boolean;
  /** The job limit, and the most commands that ran at once. */
  readonly jobs: { readonly limit: number; readonly peak: number };
  /** The chain of dependent actions whose durations add up to the most (see criticalChain), first to last. */
  readonly criticalPath?: readonly string[];
  /** With a launcher: what it said about the compiles it ran (remote, local, fallen back). */
  readonly distributed?: LaunchReport;
}

/**
 * What a build reports as it goes. `finished` of `total` counts the actions this build looks at:
 * those of its targets, less those the caller knew to be up to date (BuildOptions.dirty), as ninja
 * counts the edges its plan holds; those send no event.
 */
export type BuildEvent =
  | {
      readonly type: 'start';
      readonly id: string;
      readonly output: string;
      readonly kind: ActionKind;
      readonly running: number;
      readonly finished: number;
      readonly total: number;
      /** The commands it runs (its own: the key's, not a terminal's variant). */
      readonly commands: readonly string[];
    }
  | {
      readonly type: 'done';
      readonly id: string;
      readonly output: string;
      readonly kind: ActionKind;
      readonly state: FinishState;
      readonly finished: number;
      readonly total: number;
      readonly durationMs: number;
      /** What its commands printed, escapes and all (ran or failed, when anything). */
      readonly printed?: string;
      /** When it failed: the command that failed, its exit status, and a hint when there is one. */
      readonly command?: string;
      readonly exitCode?: number | null;
      readonly hint?: string;
    };

export type FinishState = 'ran' | 'restored' | 'cutoff' | 'upToDate' | 'failed';

/** Put a run's outcome into the build's result. */
export function addOutcome(result: BuildResult, action: Action, outcome: RunOutcome | CutoffOutcome, reason: string, reasons: readonly DirtyReason[], time: SlotTime): void {
  const { id, kind } = action;
  const output = primaryOutput(action);
  if (outcome.state === 'cutoff') {
    result.cutoff.push({ id, output, kind, reason: CUTOFF_REASON, reasons, durationMs: Math.round(outcome.durationMs), time });
    return;
  }
  if (outcome.state === 'failed') {
    const { exitCode, message, command } = outcome;
    result.failed.push({ id, output, kind, source: action.source, command, exitCode, message, time });
    return;
  }
  result.ran.push({ id, output, kind, reason, reasons, durationMs: Math.round(outcome.durationMs), time, ...(outcome.printed ? { printed: outcome.printed } : {}) });
  if (outcome.racedBecause) {
    result.raced.push(id);
    result.racedBecause[id] = outcome.racedBecause;
  }
}

/** Runs their race check dropped when they were written (see TraceStore.recordRun): raced too. */
export function addLateRaces(result: BuildResult, late: readonly LateRace[]): void {
  for (const r of late) {
    if (result.racedBecause[r.actionId]) continue;
    result.raced.push(r.actionId);
    result.racedBecause[r.actionId] = [...r.paths];
  }
}
