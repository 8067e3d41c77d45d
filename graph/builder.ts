import os from 'node:os';
import { primaryOutput, type Action, type OutputRecord } from './action.js';
import type { BuildOptions } from './buildOptions.js';
import { addLateRaces, addOutcome, type BuildEvent, type BuildResult, type FinishState, type SlotTime } from './buildResult.js';
import { crashPoint } from '../base/crashPoint.js';
import { BuildQueue } from './buildQueue.js';
import { BuildInterruptedError } from './errors.js';
import { ShellPool } from './executor.js';
import { OutputLearner } from './outputScan.js';
import type { BuildGraph } from './graph.js';
import { PreprocessCutoff, type CutoffOutcome } from './preprocessCutoff.js';
import { JobSlots, type Pool } from './jobSlots.js';
import type { LaunchedRun } from './launcher.js';
import { decide, type BuildServices } from './rebuilder.js';
import type { RunOutcome, RunSetting } from './runAndRecord.js';
import { criticalChain, type ActionTime } from './criticalPath.js';
import { criticalPaths } from './scheduler.js';
import { SharedLookups } from './sharedLookups.js';
import type { FileHasher, OutputStore } from './traces.js';
import { describeReason, explain } from './why.js';

/**
 * The builder walks the graph in dependency order with a pool of jobs. For each ready action the
 * rebuilder says up to date, restore from the store, or run; runs are recorded as verifying traces.
 */

export type { BuildOptions } from './buildOptions.js';
export { primaryOutput } from './action.js';
export type { BuildEvent, BuildResult, CutoffEntry, FailedEntry, FinishState, RanEntry, RestoredEntry, SlotTime } from './buildResult.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const DECISIONS_PER_TURN = 16;

export async function build(graph: BuildGraph, services: BuildServices, options: BuildOptions): Promise<BuildResult> {
  const shells = options.shells ?? new ShellPool(options.niceness ?? 0, options.scratchDir);
  try {
    options.launcher?.begin();
    return await new Builder(graph, services, options, shells).run();
  } finally {
    if (!options.shells) shells.close();
  }
}

/**
 * ninja's Builder: takes ready actions from the queue, finishes at once those the rebuilder finds up
 * to date or restores from the store, starts the others within the job limit and files their outcomes.
 */
class Builder {
  private readonly started = performance.now();
  private readonly queue: BuildQueue;
  /** The actions this build walks (see the constructor); undefined: every action. */
  private readonly only: ReadonlySet<string> | undefined;
  private readonly result: Mutable<BuildResult>;
  private readonly setting: RunSetting;
  private readonly cutoff: PreprocessCutoff;
  private readonly slots: JobSlots<Job>;
  /** Which job slots are busy: an action takes the lowest free one, for the timeline and the trace. */
  private readonly busySlots: boolean[] = [];
  /** Actions whose commands have finished and whose run is being recorded (their job slot is free). */
  private recording = 0;
  private pumpScheduled = false;
  /** Commands that failed so far, and whether that reached the failure limit: nothing more starts. */
  private failures = 0;
  private limitReached = false;
  /** The progress count: actions looked at and finished, out of `lookedAt` (see BuildEvent). */
  private progressed = 0;
  private readonly lookedAt: number;
  /** Interrupted: nothing starts; `killed` once no command of the build runs any more. */
  private stopping = false;
  private killed = false;
  /** Resolved: a shared-cache answer that comes after a build stopped at its failure limit changes nothing. */
  private ended = false;
  /** Counted for OSVD_CRASH_AT (base/crashPoint.ts). */
  private recordedCount = 0;
  private readonly learner: OutputLearner;
  /** Open actions waiting for the one that runs (they are decided: their pre-keys are kept). */
  private readonly waitingOpen: { job: Job; pool: Pool }[] = [];
  private readonly lookups: SharedLookups | undefined;
  private resolve!: (result: BuildResult) => void;
  private reject!: (err: unknown) => void;

  constructor(
    private readonly graph: BuildGraph,
    private readonly services: BuildServices,
    private readonly options: BuildOptions,
    private readonly shells: ShellPool,
  ) {
    const { files, traces, store } = services;
    // Races a write found after an earlier build had answered (one interrupted) are not this build's.
    traces.settleRaces();
    // What this build walks: the targets' upstream (`make foo.o`), less what the caller knows to be up to date.
    const scope = options.targets ? graph.withUpstream(options.targets) : undefined;
    const only = scope && options.dirty ? new Set([...scope].filter((id) => options.dirty!.has(id))) : (options.dirty ?? scope);
    this.only = only;
    this.queue = new BuildQueue(graph, criticalPaths(graph, (id) => traces.lastRun(id)?.durationMs, only), only);
    const unseen = only ? (scope?.size ?? graph.actions.size) - only.size : 0;
    this.result = { ok: true, ran: [], restored: [], cutoff: [], upToDate: unseen, failed: [], skipped: this.queue.skipped, raced: [], racedBecause: {}, durationMs: 0, stopped: false, jobs: { limit: options.jobs, peak: 0 } };
    this.setting = { graph, files, traces, store, shells, root: options.root, context: options.context, commandsFor: options.commandsFor, shared: options.shared, signal: options.signal };
    this.cutoff = new PreprocessCutoff(options.preprocess ?? 'auto', options.scratchDir ?? os.tmpdir());
    this.slots = new JobSlots(options.jobs, options.launcher?.slots ?? 0);
    if (options.shared) this.lookups = new SharedLookups(options.shared, graph, options.context, () => this.pump(), (err) => this.reject(err));
    this.learner = new OutputLearner(options.root, options.outputFolders ?? [], options.skipFolder ?? (() => false));
    this.lookedAt = this.queue.total;
  }

  run(): Promise<BuildResult> {
    const signal = this.options.signal;
    if (signal?.aborted) return Promise.reject(this.interruption());
    const onAbort = (): void => this.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<BuildResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.pump();
    }).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** The error the build ends with: the one its signal was aborted with (it says why), if a BuildInterruptedError. */
  private interruption(): BuildInterruptedError {
    const reason: unknown = this.options.signal?.reason;
    return reason instanceof BuildInterruptedError ? reason : new BuildInterruptedError();
  }

  private interrupt(): void {
    this.stopping = true;
    this.shells.kill().then(
      () => {
        this.killed = true;
        this.pump();
      },
      (err) => this.reject(err),
    );
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.ended) return;
    if (this.stopping) {
      if (this.killed && this.slots.total === 0 && this.recording === 0) this.reject(this.interruption());
      return;
    }
    try {
      // Decide a bounded number of actions per turn of the event loop, so that a daemon answers
      // requests during a build (a no-op build decides thousands in a row).
      let decided = 0;
      for (;;) {
        // Past the failure limit nothing more starts (see the end below).
        if (this.limitReached) break;
        const open = this.waitingOpen[0];
        if (open && this.learner.mayStart(true) && this.slots.free(open.pool)) {
          this.waitingOpen.shift();
          this.start(open.job, open.pool);
          continue;
        }
        const waiting = this.slots.nextWaiting();
        if (waiting) {
          this.start(waiting.item, waiting.pool);
          continue;
        }
        if (!this.slots.hasRoom() || !(this.lookups?.hasAnswered || this.queue.hasReady())) break;
        if (decided >= DECISIONS_PER_TURN) {
          if (!this.pumpScheduled) {
            this.pumpScheduled = true;
            setImmediate(() => this.pump());
          }
          return;
        }
        const answered = this.lookups?.nextAnswered();
        if (answered) {
          decided++;
          this.decideAndStart(answered);
          continue;
        }
        const id = this.queue.next();
        if (id === undefined) break;
        decided++;
        this.decideAndStart(this.graph.get(id));
      }
      // Past the failure limit, what waits (ready, answered by the shared cache, an open action or a job
      // waiting for its turn) never starts: the build ends once what runs has finished.
      const settled = this.slots.total === 0 && this.recording === 0;
      const idle = settled && (this.limitReached || (this.waitingOpen.length === 0 && !this.slots.hasWaiting() && !this.lookups?.busy && !this.queue.hasReady()));
      if (idle && !this.limitReached && this.lookups?.releaseDeferred()) {
        setImmediate(() => this.pump());
        return;
      }
      if (idle) {
        this.ended = true;
        this.result.durationMs = performance.now() - this.started;
        this.result.stopped = this.limitReached && !this.queue.allAccounted();
        this.result.criticalPath = this.criticalPath();
        this.result.ok = this.result.failed.length === 0 && this.queue.allAccounted();
        if (this.options.launcher) this.result.distributed = this.options.launcher.report();
        addLateRaces(this.result, this.setting.traces.settleRaces());
        this.resolve(this.result);
      }
    } catch (err) {
      this.reject(err);
    }
  }

  /** Up to date, or restored from the store: finished at once. Otherwise its commands start when a slot is free. */
  private decideAndStart(action: Action): void {
    const { files, traces, store } = this.services;
    const decision = decide(action, files, traces, store);
    if (decision.state === 'upToDate') {
      traces.adoptRun(decision.entry.run);
      this.result.upToDate++;
      this.finish(action.id, 'upToDate', 0);
      return;
    }
    const restoreStart = this.now();
    if (decision.state === 'restore' && restoreOutputs(decision.stale, files, store)) {
      traces.adoptRun(decision.entry.run);
      this.result.restored.push({ id: action.id, output: primaryOutput(action), kind: action.kind, time: { startMs: restoreStart, endMs: this.now() } });
      this.finish(action.id, 'restored', 0);
      return;
    }
    // Not here: the shared cache may have it (asked once; its answer comes back to be decided again).
    if (this.lookups?.ask(action, decision.preKey)) return;
    // A compile the launcher takes waits for one of its slots; anything else for a local one.
    const launched = this.options.launcher?.launch(action);
    const pool: Pool = launched ? 'launched' : 'local';
    const job: Job = { action, preKey: decision.preKey, launched };
    if (this.slots.free(pool)) this.start(job, pool);
    else this.slots.wait(pool, job);
  }

  /** ninja's StartEdge: run the action's commands in a job slot; its outcome is filed when recorded. */
  private start(job: Job, pool: Pool): void {
    const { action, preKey, launched } = job;
    const { files, traces } = this.services;
    const id = action.id;
    if (action.outputsOpen && !this.learner.mayStart(true)) {
      this.waitingOpen.push({ job, pool });
      return;
    }
    this.slots.take(pool);
    if (this.slots.total > this.result.jobs.peak) this.result.jobs = { limit: this.options.jobs, peak: this.slots.total };
    const slot = this.takeSlot();
    const startMs = this.now();
    let time: SlotTime | undefined;
    this.options.onEvent?.({ type: 'start', id, output: primaryOutput(action), kind: action.kind, running: this.slots.total, finished: this.progressed, total: this.lookedAt, commands: action.commands });
    // The job slot is given back as soon as the commands end: the next command starts while
    // this run is hashed and recorded, rather than after. A failure counts from then on, so that
    // nothing starts in its slot past the failure limit.
    const release = (ok: boolean): void => {
      time = { slot, startMs, endMs: this.now() };
      this.busySlots[slot] = false;
      this.slots.give(pool);
      this.recording++;
      const limit = this.options.failureLimit ?? 0;
      if (!ok && ++this.failures >= limit && limit > 0) this.limitReached = true;
      this.pump();
    };
    // What an open action writes beyond what it names is learned from the build folders (OutputLearner).
    let look: (() => string[]) | undefined;
    if (action.outputsOpen && (this.options.outputFolders?.length ?? 0) > 0) {
      const before = this.learner.start(id);
      look = () =>
        this.learner.finish(id, before, (p) => {
          const producer = this.graph.producerOf(p);
          return producer !== undefined && producer.id !== id;
        });
    }
    const running = this.cutoff.run(action, preKey, this.setting, release, look, launched);
    // Why it runs is worked out while its commands run, not before they start; its last run and
    // failure are still the ones before this run (they are recorded once it ends).
    const reasons = explain({
      action,
      files,
      lastRun: traces.lastRun(id),
      lastFailure: traces.lastFailure(id),
      context: this.options.context,
      pendingProducer: () => undefined,
      producerOf: (p) => this.graph.producerOf(p)?.id,
    });
    if (reasons.length === 0) reasons.push({ type: 'storeMiss' });
    const reason = reasons.slice(0, 3).map(describeReason).join('; ');
    running.then(
      (outcome) => {
        this.recording--;
        if (outcome.state === 'ran') crashPoint('action-recorded', ++this.recordedCount);
        addOutcome(this.result, action, outcome, reason, reasons, time!);
        this.finish(id, outcome.state, outcome.durationMs, outcome);
        this.pump();
      },
      (err) => {
        this.recording--;
        // A run whose shell was killed because the build is stopping: the build's end says so.
        if (this.stopping) this.pump();
        else this.reject(err);
      },
    );
  }

  private now(): number {
    return performance.now() - this.started;
  }

  private takeSlot(): number {
    let slot = this.busySlots.indexOf(false);
    if (slot < 0) slot = this.busySlots.length;
    this.busySlots[slot] = true;
    return slot;
  }

  /** Over what ran, failed or was restored: the rest finished at once when they were ready. */
  private criticalPath(): string[] {
    const times = new Map<string, ActionTime>();
    for (const list of [this.result.ran, this.result.failed, this.result.restored]) for (const e of list) times.set(e.id, e.time);
    return times.size === 0 ? [] : criticalChain(this.graph, (id) => times.get(id), this.only);
  }

  /** The action is done with (in whatever state): what waited for it may be ready now. */
  private finish(id: string, state: FinishState, durationMs: number, outcome?: RunOutcome | CutoffOutcome): void {
    this.queue.finish(id, state === 'failed');
    this.lookups?.finished(id);
    this.progressed++;
    const onEvent = this.options.onEvent;
    if (!onEvent) return;
    const action = this.graph.get(id);
    const event: Mutable<Extract<BuildEvent, { type: 'done' }>> = { type: 'done', id, output: primaryOutput(action), kind: action.kind, state, finished: this.progressed, total: this.lookedAt, durationMs };
    if (outcome && outcome.state !== 'cutoff' && outcome.printed) event.printed = outcome.printed;
    if (outcome?.state === 'failed') {
      event.command = outcome.command;
      event.exitCode = outcome.exitCode;
      if (outcome.hint) event.hint = outcome.hint;
    }
    onEvent(event);
  }
}

/** An action decided to run, with the launcher's commands when it takes it. */
interface Job {
  readonly action: Action;
  readonly preKey: string;
  readonly launched: LaunchedRun | undefined;
}

/** Put stale outputs back from the store; false when one of them has no good copy there. */
function restoreOutputs(stale: readonly OutputRecord[], files: FileHasher, store: OutputStore): boolean {
  for (const o of stale) {
    if (!store.restore(o)) return false;
    files.invalidate(o.path);
  }
  return true;
}
