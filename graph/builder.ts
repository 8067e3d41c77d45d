import type { Action, ActionKind, BuildContext, OutputRecord } from './action.js';
import { BuildQueue } from './buildQueue.js';
import { ShellPool } from './executor.js';
import type { BuildGraph } from './graph.js';
import { decide, describeReason, explain, type DirtyReason } from './rebuilder.js';
import { runAndRecord, type RunSetting } from './runAndRecord.js';
import { criticalPaths } from './scheduler.js';
import type { FileHasher, OutputStore, TraceStore } from './traces.js';

/**
 * The builder walks the graph in dependency order with a pool of jobs. For each ready action the
 * rebuilder says up to date, restore from the store, or run; runs are recorded as verifying traces.
 */

export interface BuildServices {
  readonly files: FileHasher;
  readonly traces: TraceStore;
  readonly store: OutputStore;
}

export interface RanEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
  readonly reason: string;
  readonly reasons: readonly DirtyReason[];
  readonly durationMs: number;
}

export interface RestoredEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
}

export interface FailedEntry {
  readonly id: string;
  readonly output: string;
  readonly kind: ActionKind;
  readonly source?: string;
  readonly command?: string;
  readonly exitCode: number | null;
  readonly message: string;
}

export interface BuildResult {
  readonly ok: boolean;
  readonly ran: RanEntry[];
  readonly restored: RestoredEntry[];
  readonly upToDate: number;
  readonly failed: FailedEntry[];
  /** Actions not attempted because something they depend on failed. */
  readonly skipped: string[];
  /** Actions whose inputs changed while they ran: not recorded, they run again next time. */
  readonly raced: string[];
  /** For each raced action, the inputs (or discovered dependencies) that changed while it ran. */
  readonly racedBecause: Record<string, string[]>;
  readonly durationMs: number;
}

export type BuildEvent =
  | { readonly type: 'start'; readonly id: string; readonly output: string; readonly kind: ActionKind; readonly running: number }
  | { readonly type: 'done'; readonly id: string; readonly output: string; readonly kind: ActionKind; readonly state: 'ran' | 'restored' | 'upToDate' | 'failed'; readonly finished: number; readonly total: number; readonly durationMs: number };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const DECISIONS_PER_TURN = 16;
/** Actions known up to date cost next to nothing: many more of them per turn. */
const KNOWN_PER_TURN = 2048;

export interface BuildOptions {
  readonly root: string;
  readonly jobs: number;
  readonly context: BuildContext;
  readonly onEvent?: (event: BuildEvent) => void;
  /** Run commands this much below our own priority (the daemon uses it to stay responsive). */
  readonly niceness?: number;
  /** A private folder for the commands' captured output (default: the system's temporary folder). */
  readonly scratchDir?: string;
  /**
   * Actions the caller already knows to be up to date (the daemon's live plan, kept current by its
   * watcher): completed without being decided again, so a build costs what changed, not the graph.
   */
  readonly knownUpToDate?: (id: string) => boolean;
  /**
   * Shells kept by the caller from one build to the next (the daemon's: starting a process from a
   * large Node process costs tens of milliseconds). Without it, the build starts and ends its own.
   */
  readonly shells?: ShellPool;
}

/** The output a user recognises an action by: its first output, or its name when it writes none. */
export function primaryOutput(action: Action): string {
  return action.outputs[0] ?? action.id;
}

export async function build(graph: BuildGraph, services: BuildServices, options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const { files, traces, store } = services;
  const queue = new BuildQueue(graph, criticalPaths(graph, (id) => traces.lastRun(id)?.durationMs));
  const result: Mutable<BuildResult> = { ok: true, ran: [], restored: [], upToDate: 0, failed: [], skipped: queue.skipped, raced: [], racedBecause: {}, durationMs: 0 };
  let running = 0;
  /** Actions whose commands have finished and whose run is being recorded (their job slot is free). */
  let recording = 0;

  const shells = options.shells ?? new ShellPool(options.niceness ?? 0, options.scratchDir);
  const setting: RunSetting = { graph, files, traces, store, shells, root: options.root, context: options.context };
  try {
    return await runBuild();
  } finally {
    if (!options.shells) shells.close();
  }

  function runBuild(): Promise<BuildResult> {
    return new Promise<BuildResult>((resolve, reject) => {
      const complete = (id: string, state: 'ran' | 'restored' | 'upToDate' | 'failed', durationMs: number): void => {
        queue.finish(id, state === 'failed');
        const action = graph.get(id);
        options.onEvent?.({ type: 'done', id, output: primaryOutput(action), kind: action.kind, state, finished: queue.finished, total: queue.total, durationMs });
      };

      let pumpScheduled = false;
      const pump = (): void => {
        pumpScheduled = false;
        try {
          // Decide a bounded number of actions per turn of the event loop, so that a daemon answers
          // requests during a build (a no-op build decides thousands in a row).
          let decided = 0;
          let known = 0;
          while (running < options.jobs && queue.hasReady()) {
            if (decided >= DECISIONS_PER_TURN || known >= KNOWN_PER_TURN) {
              if (!pumpScheduled) {
                pumpScheduled = true;
                setImmediate(pump);
              }
              return;
            }
            const id = queue.next();
            if (id === undefined) break;
            if (options.knownUpToDate?.(id)) {
              known++;
              result.upToDate++;
              complete(id, 'upToDate', 0);
              continue;
            }
            decided++;
            const action = graph.get(id);
            const decision = decide(action, files, traces, store);
            if (decision.state === 'upToDate') {
              traces.adoptRun(decision.entry.run);
              result.upToDate++;
              complete(id, 'upToDate', 0);
              continue;
            }
            if (decision.state === 'restore' && restoreOutputs(decision.stale)) {
              traces.adoptRun(decision.entry.run);
              result.restored.push({ id, output: primaryOutput(action), kind: action.kind });
              complete(id, 'restored', 0);
              continue;
            }
            const reasons = explain({
              action,
              files,
              lastRun: traces.lastRun(id),
              lastFailure: traces.lastFailure(id),
              context: options.context,
              pendingProducer: () => undefined,
              producerOf: (p) => graph.producerOf(p)?.id,
            });
            if (reasons.length === 0) reasons.push({ type: 'storeMiss' });
            const reason = reasons.slice(0, 3).map(describeReason).join('; ');
            running++;
            options.onEvent?.({ type: 'start', id, output: primaryOutput(action), kind: action.kind, running });
            // The job slot is given back as soon as the commands end: the next command starts while
            // this run is hashed and recorded, rather than after.
            const release = (): void => {
              running--;
              recording++;
              pump();
            };
            runAndRecord(action, decision.preKey, setting, release).then(
              (outcome) => {
                recording--;
                const output = primaryOutput(action);
                if (outcome.state === 'failed') {
                  const { exitCode, message, command } = outcome;
                  result.failed.push({ id, output, kind: action.kind, source: action.source, command, exitCode, message });
                } else {
                  result.ran.push({ id, output, kind: action.kind, reason, reasons, durationMs: Math.round(outcome.durationMs) });
                  if (outcome.racedBecause) {
                    result.raced.push(id);
                    result.racedBecause[id] = outcome.racedBecause;
                  }
                }
                complete(id, outcome.state, outcome.durationMs);
                pump();
              },
              (err) => reject(err),
            );
          }
          if (running === 0 && recording === 0 && !queue.hasReady()) {
            result.durationMs = performance.now() - started;
            result.ok = result.failed.length === 0 && queue.allAccounted();
            resolve(result);
          }
        } catch (err) {
          reject(err);
        }
      };

      const restoreOutputs = (stale: readonly OutputRecord[]): boolean => {
        for (const o of stale) {
          if (!store.restore(o)) return false;
          files.invalidate(o.path);
        }
        return true;
      };

      pump();
    });
  }
}
