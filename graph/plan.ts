import type { BuildContext } from './action.js';
import type { BuildGraph } from './graph.js';
import { decide, explain, type DirtyReason } from './rebuilder.js';
import type { FileHasher, OutputStore, TraceStore } from './traces.js';

/**
 * What a build would do now, without running anything: for `osvd status` and `osvd why`.
 * An action whose input comes from a dirty action is `pending`: its key is not known until
 * the upstream action has run (it may write the same bytes, and then this one stays up to date).
 */
export type PlanState = 'upToDate' | 'restore' | 'run' | 'pending';

export interface PlanEntry {
  readonly state: PlanState;
  readonly reasons: readonly DirtyReason[];
}

export interface Plan {
  readonly entries: ReadonlyMap<string, PlanEntry>;
  readonly counts: Readonly<Record<PlanState, number>>;
}

export interface PlanServices {
  readonly files: FileHasher;
  readonly traces: TraceStore;
  readonly store: OutputStore;
}

/** Decide one action, given the states already decided for the actions before it. */
export function planAction(
  graph: BuildGraph,
  services: PlanServices,
  context: BuildContext,
  id: string,
  isDirty: (id: string) => boolean,
  withReasons: boolean,
): PlanEntry {
  const { files, traces, store } = services;
  const action = graph.get(id);
  const last = traces.lastRun(id);
  const pendingProducer = (p: string): string | undefined => {
    const producer = graph.producerOf(p);
    return producer && producer.id !== id && isDirty(producer.id) ? producer.id : undefined;
  };
  const readsDirty = action.inputs.some((p) => pendingProducer(p) !== undefined) || (last?.deps ?? []).some(([p]) => pendingProducer(p) !== undefined);
  const state: PlanState = readsDirty ? 'pending' : decide(action, files, traces, store).state;
  const reasons =
    withReasons && state !== 'upToDate'
      ? explain({ action, files, lastRun: last, lastFailure: traces.lastFailure(id), context, pendingProducer, producerOf: (p) => graph.producerOf(p)?.id })
      : [];
  return { state, reasons };
}

export function planBuild(graph: BuildGraph, services: PlanServices, context: BuildContext, options: { explain?: ReadonlySet<string> } = {}): Plan {
  const entries = new Map<string, PlanEntry>();
  const counts: Record<PlanState, number> = { upToDate: 0, restore: 0, run: 0, pending: 0 };
  for (const id of graph.topologicalOrder()) {
    const entry = planAction(graph, services, context, id, (d) => entries.get(d)?.state !== 'upToDate', Boolean(options.explain?.has(id)));
    entries.set(id, entry);
    counts[entry.state]++;
  }
  return { entries, counts };
}

/**
 * A plan kept current as files change, for the daemon: a change re-decides only the actions that
 * read the changed files (declared inputs or last depfile) or write them, and what lies downstream.
 */
export class LivePlan implements Plan {
  readonly entries = new Map<string, PlanEntry>();
  readonly counts: Record<PlanState, number> = { upToDate: 0, restore: 0, run: 0, pending: 0 };
  private readonly order: readonly string[];
  private readonly position = new Map<string, number>();
  private readonly readers = new Map<string, Set<string>>();
  /** The paths each action is indexed under in `readers` (its inputs and its last run's deps). */
  private readonly reads = new Map<string, readonly string[]>();

  constructor(private readonly graph: BuildGraph, private readonly services: PlanServices, private readonly context: BuildContext) {
    this.order = graph.topologicalOrder();
    this.order.forEach((id, i) => this.position.set(id, i));
    this.recomputeAll();
  }

  /** Every path the plan depends on: a change to any other path cannot change it. */
  watches(path: string): boolean {
    return this.readers.has(path) || this.graph.producerOf(path) !== undefined;
  }

  /** Every path some action reads (declared or found in its last depfile). */
  readPaths(): IterableIterator<string> {
    return this.readers.keys();
  }

  recomputeAll(): void {
    this.readers.clear();
    this.reads.clear();
    for (const id of this.order) this.index(id);
    this.entries.clear();
    for (const k of Object.keys(this.counts) as PlanState[]) this.counts[k] = 0;
    for (const id of this.order) this.decide(id);
  }

  /** Re-decide what the changed paths can affect. Returns how many actions were looked at. */
  update(changed: Iterable<string>): number {
    const touched = new Set<string>();
    for (const p of changed) {
      for (const id of this.readers.get(p) ?? []) touched.add(id);
      const producer = this.graph.producerOf(p);
      if (producer) touched.add(producer.id);
    }
    return this.redecide(touched);
  }

  /**
   * After a build: these actions were decided (and perhaps ran), so their last runs, depfiles and
   * outputs may be new. Index them again and re-decide them and what lies downstream; the rest of the
   * plan stands. Returns how many actions were looked at.
   */
  refresh(ids: Iterable<string>): number {
    const touched = new Set<string>();
    for (const id of ids) {
      if (!this.graph.actions.has(id)) continue;
      this.index(id);
      touched.add(id);
    }
    return this.redecide(touched);
  }

  private redecide(touched: ReadonlySet<string>): number {
    if (touched.size === 0) return 0;
    const affected = new Set(touched);
    for (const id of touched) for (const d of this.graph.downstreamOf(id)) affected.add(d);
    const ids = [...affected].sort((a, b) => this.position.get(a)! - this.position.get(b)!);
    for (const id of ids) {
      const old = this.entries.get(id);
      if (old) this.counts[old.state]--;
      this.decide(id);
    }
    return ids.length;
  }

  private decide(id: string): void {
    const entry = planAction(this.graph, this.services, this.context, id, (d) => this.entries.get(d)?.state !== 'upToDate', false);
    this.entries.set(id, entry);
    this.counts[entry.state]++;
  }

  private index(id: string): void {
    for (const p of this.reads.get(id) ?? []) {
      const set = this.readers.get(p);
      set?.delete(id);
      if (set?.size === 0) this.readers.delete(p);
    }
    const paths = [...this.graph.get(id).inputs, ...(this.services.traces.lastRun(id)?.deps ?? []).map(([p]) => p)];
    for (const p of paths) {
      let set = this.readers.get(p);
      if (!set) this.readers.set(p, (set = new Set()));
      set.add(id);
    }
    this.reads.set(id, paths);
  }
}
