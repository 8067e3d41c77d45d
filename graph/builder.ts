import fs from 'node:fs';
import path from 'node:path';
import type { Action, ActionKind, BuildContext, FileHash, OutputRecord } from './action.js';
import { DepfileError, parseDepfile } from './depfile.js';
import { ShellPool } from './executor.js';
import type { BuildGraph } from './graph.js';
import { treePath } from './paths.js';
import { actionKey, decide, describeReason, explain, inputHashes, type DirtyReason } from './rebuilder.js';
import { BuildQueue } from './buildQueue.js';
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
            runAndRecord(action, decision.preKey, reason, reasons, release).then(
              ({ state, durationMs }) => {
                recording--;
                complete(id, state, durationMs);
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

      const runAndRecord = async (
        action: Action,
        preKey: string,
        reason: string,
        reasons: readonly DirtyReason[],
        release: () => void,
      ): Promise<{ state: 'ran' | 'failed'; durationMs: number }> => {
        const before = inputHashes(action, files);
        const startedAt = Date.now();
        let exec;
        try {
          exec = await shells.run(action, options.root);
        } finally {
          release();
        }
        for (const o of action.outputs) files.invalidate(o);
        if (!exec.ok) {
          removeOutputs(options.root, action);
          const message = exec.exitCode === 127 ? `${exec.output.trim()}\n(${notFoundHint(exec.output)})` : exec.output.trim();
          traces.recordFailure(action.id, message);
          result.failed.push({
            id: action.id,
            output: primaryOutput(action),
            kind: action.kind,
            source: action.source,
            command: exec.failedCommand,
            exitCode: exec.exitCode,
            message,
          });
          return { state: 'failed', durationMs: exec.durationMs };
        }
        result.ran.push({ id: action.id, output: primaryOutput(action), kind: action.kind, reason, reasons, durationMs: Math.round(exec.durationMs) });

        // An input that changed while the action ran makes this run untrustworthy: do not record it.
        // Inputs made by other actions are not looked at again: their producers finished before this
        // action started and do not run again in this build (the kernel link reads 50,000 objects).
        const changed: string[] = [];
        for (const [p, h] of before) {
          if (graph.producerOf(p)) continue;
          files.invalidate(p);
          if ((files.hash(p) ?? 'missing') !== h) changed.push(p);
        }
        let raced = changed.length > 0;
        let deps: FileHash[] = [];
        if (action.depfile !== undefined) {
          try {
            deps = readDeps(options.root, action);
          } catch (err) {
            if (!(err instanceof DepfileError)) throw err;
            raced = true;
          }
          for (const [p] of deps) {
            const m = files.mtimeMs(p);
            if (m !== null && m > startedAt) {
              raced = true;
              changed.push(p);
            }
          }
        }
        if (raced) {
          result.raced.push(action.id);
          result.racedBecause[action.id] = changed.slice(0, 10);
          return { state: 'ran', durationMs: exec.durationMs };
        }
        const outputs: OutputRecord[] = [];
        for (const o of action.outputs) {
          const record = files.describe(o);
          if (record) outputs.push(record);
        }
        for (const o of outputs) if (o.hash !== 'dir' && !o.hash.startsWith('link:')) store.save(o);
        traces.recordRun({
          actionId: action.id,
          key: actionKey(preKey, deps),
          preKey,
          commands: action.commands,
          keyEnv: action.keyEnv,
          inputs: before,
          deps,
          outputs,
          context: options.context,
          durationMs: Math.round(exec.durationMs),
          finishedAt: Date.now(),
        });
        return { state: 'ran', durationMs: exec.durationMs };

        function readDeps(root: string, a: Action): FileHash[] {
          const depfile = a.depfile!;
          let text: string;
          try {
            text = fs.readFileSync(path.resolve(root, depfile), 'utf8');
          } catch (err) {
            throw new DepfileError(depfile, `the action did not write its depfile (${(err as Error).message})`);
          }
          const names = parseDepfile(text, depfile).map((p) => treePath(root, a.cwd, p));
          return [...new Set(names)].sort().map((p) => [p, files.hash(p) ?? 'missing'] as const);
        }
      };

      pump();
    });
  }
}

/** Exit status 127: the shell did not find a command. Name it when the shell said which. */
function notFoundHint(output: string): string {
  const name = /([^\s:'"]+):? (?:command )?not found/.exec(output)?.[1];
  return `a command was not found${name ? ` ('${name}')` : ''}: is the compiler installed and on PATH? (objdump, ld and nm come with binutils)`;
}

/** Like make's .DELETE_ON_ERROR: a failed action leaves no output that could look up to date. */
function removeOutputs(root: string, action: Action): void {
  for (const o of action.outputs) {
    const abs = path.resolve(root, o);
    try {
      const st = fs.lstatSync(abs);
      if (!st.isDirectory()) fs.rmSync(abs, { force: true });
    } catch {
      // already gone
    }
  }
}
