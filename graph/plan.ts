import type { BuildContext, FileHash } from './action.js';
import type { BuildGraph } from './graph.js';
import { PositionBits } from './positionBits.js';
import { decide, type BuildServices } from './rebuilder.js';
import { explain, type DirtyReason } from './why.js';

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

/** Decide one action, given the states already decided for the actions before it. */
export function planAction(
  graph: BuildGraph,
  services: BuildServices,
  context: BuildContext,
  id: string,
  isDirty: (id: string) => boolean,
  withReasons: boolean,
  /** Whether the action reads an output of a dirty action, when the caller knows a faster way. */
  readsDirtyKnown?: boolean,
): PlanEntry {
  const { files, traces, store } = services;
  const action = graph.get(id);
  const last = traces.lastRun(id);
  const pendingProducer = (p: string): string | undefined => {
    const producer = graph.producerOf(p);
    return producer && producer.id !== id && isDirty(producer.id) ? producer.id : undefined;
  };
  const readsDirty =
    readsDirtyKnown ??
    (action.inputs.some((p) => pendingProducer(p) !== undefined) ||
      (action.tracedInputs ?? []).some((p) => pendingProducer(p) !== undefined) ||
      (last?.deps ?? []).some(([p]) => pendingProducer(p) !== undefined));
  const state: PlanState = readsDirty ? 'pending' : decide(action, files, traces, store).state;
  const reasons =
    withReasons && state !== 'upToDate'
      ? explain({ action, files, lastRun: last, lastFailure: traces.lastFailure(id), context, pendingProducer, producerOf: (p) => graph.producerOf(p)?.id })
      : [];
  return reasons.length === 0 ? PLAIN[state] : { state, reasons };
}

/** Entries without reasons (nearly all of a live plan's): one shared object per state. */
const PLAIN: Readonly<Record<PlanState, PlanEntry>> = Object.freeze({
  upToDate: Object.freeze({ state: 'upToDate', reasons: Object.freeze([]) }),
  restore: Object.freeze({ state: 'restore', reasons: Object.freeze([]) }),
  run: Object.freeze({ state: 'run', reasons: Object.freeze([]) }),
  pending: Object.freeze({ state: 'pending', reasons: Object.freeze([]) }),
});

/**
 * `only`: plan just these actions (they must include everything upstream of each of them: an action's
 * state depends on those alone). `osvd why` of one object looks at its chain, not at the whole graph.
 */
export function planBuild(graph: BuildGraph, services: BuildServices, context: BuildContext, options: { explain?: ReadonlySet<string>; only?: ReadonlySet<string> } = {}): Plan {
  const entries = new Map<string, PlanEntry>();
  const counts: Record<PlanState, number> = { upToDate: 0, restore: 0, run: 0, pending: 0 };
  for (const id of graph.topologicalOrder()) {
    if (options.only && !options.only.has(id)) continue;
    const entry = planAction(graph, services, context, id, (d) => entries.get(d)?.state !== 'upToDate', Boolean(options.explain?.has(id)));
    entries.set(id, entry);
    counts[entry.state]++;
  }
  return { entries, counts };
}

/** Above this many read paths, an action's pending state is found from the dirty actions instead. */
const MANY_READS = 256;
const NO_DEPS: readonly FileHash[] = Object.freeze([]);
/**
 * Up to this many readers of a path are a list (or a 256th of the actions, when more: a list of that
 * many costs about a quarter of a PositionBits over every action); more, a PositionBits.
 */
const FEW_READERS = 16;
type Readers = string | string[] | PositionBits;

/**
 * A plan kept current as files change, for the daemon: a change re-decides only the actions that
 * read the changed files (declared inputs or last depfile) or write them, and what lies downstream.
 */
export class LivePlan implements Plan {
  readonly entries = new Map<string, PlanEntry>();
  readonly counts: Record<PlanState, number> = { upToDate: 0, restore: 0, run: 0, pending: 0 };
  private readonly order: readonly string[];
  private readonly position = new Map<string, number>();
  /**
   * The actions that read each path: one name, a short list, or their positions' bits when there are
   * many (most paths have one reader or a few). With a Set of names per header, this index was 35 MB
   * of the daemon's heap at 50,000 TUs.
   */
  private readonly readers = new Map<string, Readers>();
  /** Readers beyond this many are kept as bits (see FEW_READERS). */
  private readonly listedReaders: number;
  /** Actions whose state is not up to date. */
  private readonly dirty = new Set<string>();
  /** For actions that read many paths, those paths as a set (made on first use; see readsDirty). */
  private readonly readSets = new Map<string, ReadonlySet<string>>();
  /** Read paths the tree watcher cannot see (see the constructor's `unwatched`), kept as they are indexed. */
  private readonly unwatched = new Set<string>();
  /**
   * The last run's deps each action is indexed under in `readers`, with its inputs (the graph's, which
   * do not change): the record's own list, not a copy of the paths.
   */
  private readonly reads = new Map<string, readonly FileHash[]>();

  /** `isUnwatched`: which read paths no file watcher reports (see unwatchedReadPaths). `decideNow` false: see inSlices. */
  constructor(
    private readonly graph: BuildGraph,
    private readonly services: BuildServices,
    private readonly context: BuildContext,
    private readonly isUnwatched: (path: string) => boolean = () => false,
    decideNow = true,
  ) {
    this.order = graph.topologicalOrder();
    this.order.forEach((id, i) => this.position.set(id, i));
    this.listedReaders = Math.max(FEW_READERS, Math.ceil(this.order.length / 256));
    if (decideNow) this.recomputeAll();
  }

  /**
   * The same plan, made in slices: whenever `sliceMs` have passed, `pause` is awaited, so that the caller's other work goes on meanwhile (at 50,000
   * TUs the first plan takes 6-7 s). Nothing may use the plan before it is returned; files that
   * change meanwhile must be given to `update` then (an action decided before a change kept its old
   * hash).
   */
  static async inSlices(
    graph: BuildGraph,
    services: BuildServices,
    context: BuildContext,
    isUnwatched: ((path: string) => boolean) | undefined,
    pause: () => Promise<void>,
    sliceMs = 50,
  ): Promise<LivePlan> {
    const plan = new LivePlan(graph, services, context, isUnwatched, false);
    let since = performance.now();
    for (const _ of plan.recomputing()) {
      if (performance.now() - since < sliceMs) continue;
      await pause();
      since = performance.now();
    }
    return plan;
  }

  /** Every path the plan depends on: a change to any other path cannot change it. */
  watches(path: string): boolean {
    return this.readers.has(path) || this.graph.producerOf(path) !== undefined;
  }

  /** Every path some action reads (declared or found in its last depfile). */
  readPaths(): IterableIterator<string> {
    return this.readers.keys();
  }

  /** How many actions (of `scope`, when given) are not up to date. */
  staleIn(scope?: ReadonlySet<string>): number {
    const { run, restore, pending } = this.counts;
    if (!scope) return run + restore + pending;
    let stale = 0;
    for (const id of scope) if (this.entries.get(id)?.state !== 'upToDate') stale++;
    return stale;
  }

  /** The actions whose state is not up to date (every reader of an output of one of them is among them). */
  dirtyActions(): ReadonlySet<string> {
    return this.dirty;
  }

  /** Whether some action reads this path. */
  isRead(path: string): boolean {
    return this.readers.has(path);
  }

  /** The read paths `isUnwatched` picked: kept current as actions are indexed, not found by a walk. */
  unwatchedReadPaths(): ReadonlySet<string> {
    return this.unwatched;
  }

  recomputeAll(): void {
    for (const _ of this.recomputing());
  }

  /** recomputeAll in steps: a step every 64 actions indexed, then every 64 decided. */
  private *recomputing(): Generator<void> {
    this.readers.clear();
    this.reads.clear();
    this.readSets.clear();
    this.unwatched.clear();
    this.dirty.clear();
    this.entries.clear();
    for (const k of Object.keys(this.counts) as PlanState[]) this.counts[k] = 0;
    for (let i = 0; i < this.order.length; i++) {
      this.index(this.order[i]!);
      if ((i & 63) === 63) yield;
    }
    for (let i = 0; i < this.order.length; i++) {
      this.decide(this.order[i]!);
      if ((i & 63) === 63) yield;
    }
  }

  /** Re-decide what the changed paths can affect. Returns how many actions were looked at. */
  update(changed: Iterable<string>): number {
    const touched = new Set<string>();
    for (const p of changed) {
      this.eachReader(p, (id) => touched.add(id));
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

  /**
   * The plan of `scope` (actions with everything upstream of them) with the reasons of its stale
   * actions worked out (the live plan keeps none): for a dry run. The live plan does not change.
   */
  explained(scope: ReadonlySet<string>): Plan {
    const entries = new Map<string, PlanEntry>();
    const counts: Record<PlanState, number> = { upToDate: 0, restore: 0, run: 0, pending: 0 };
    const isDirty = (d: string): boolean => this.entries.get(d)?.state !== 'upToDate';
    for (const id of this.order) {
      if (!scope.has(id)) continue;
      const known = this.entries.get(id)!;
      const entry = known.state === 'upToDate' ? known : planAction(this.graph, this.services, this.context, id, isDirty, true, known.state === 'pending');
      entries.set(id, entry);
      counts[entry.state]++;
    }
    return { entries, counts };
  }

  /**
   * Re-decide these actions and, transitively, the readers of their outputs: a state depends on what
   * an action reads, so only a reader can become pending or stop being so. Actions merely ordered
   * after them are not looked at: every compile waits for the generator of drivers_config.h, which
   * made each profile switch at 1,000 TUs re-decide the whole graph after its build.
   */
  private redecide(touched: ReadonlySet<string>): number {
    if (touched.size === 0) return 0;
    const affected = new Set(touched);
    const queue = [...touched];
    while (queue.length > 0) {
      for (const o of this.graph.get(queue.pop()!).outputs) {
        this.eachReader(o, (reader) => {
          if (affected.has(reader)) return;
          affected.add(reader);
          queue.push(reader);
        });
      }
    }
    const ids = [...affected].sort((a, b) => this.position.get(a)! - this.position.get(b)!);
    for (const id of ids) {
      const old = this.entries.get(id);
      if (old) this.counts[old.state]--;
      this.decide(id);
    }
    return ids.length;
  }

  private decide(id: string): void {
    const isDirty = (d: string): boolean => this.entries.get(d)?.state !== 'upToDate';
    const entry = planAction(this.graph, this.services, this.context, id, isDirty, false, this.readsDirty(id));
    this.entries.set(id, entry);
    this.counts[entry.state]++;
    if (entry.state === 'upToDate') this.dirty.delete(id);
    else this.dirty.add(id);
  }

  /**
   * Whether the action reads an output of a dirty action. For an action that reads many files (the
   * kernel link reads every object: 50,000 at 50,000 TUs) it is cheaper to look at the few dirty
   * actions' outputs than at every path it reads: the dirty set after a one-TU edit then costs what
   * the edit touched, not the size of the link. Undefined: let planAction look at every path.
   */
  private readsDirty(id: string): boolean | undefined {
    // While recomputeAll decides, an action not decided yet counts as dirty: only a full look sees that.
    if (this.entries.size < this.order.length) return undefined;
    const deps = this.reads.get(id);
    if (!deps) return undefined;
    const action = this.graph.get(id);
    const count = action.inputs.length + (action.tracedInputs?.length ?? 0) + deps.length;
    if (count <= MANY_READS) return undefined;
    let outputs = 0;
    for (const d of this.dirty) if ((outputs += this.graph.get(d).outputs.length) > count) return undefined;
    let set = this.readSets.get(id);
    if (!set) this.readSets.set(id, (set = new Set(this.pathsOf(id, deps))));
    for (const d of this.dirty) {
      if (d === id) continue;
      for (const o of this.graph.get(d).outputs) if (set.has(o)) return true;
    }
    return false;
  }

  /** The paths an action is indexed under: its inputs and traced inputs, then these deps'. */
  private pathsOf(id: string, deps: readonly FileHash[]): string[] {
    const action = this.graph.get(id);
    return [...action.inputs, ...(action.tracedInputs ?? []), ...deps.map(([p]) => p)];
  }

  private index(id: string): void {
    const deps = this.services.traces.lastRun(id)?.deps ?? NO_DEPS;
    const old = this.reads.get(id);
    // The same deps as before (a rebuilt link reads the same objects and no depfile): nothing to do.
    if (old && old.length === deps.length && old.every(([p], i) => p === deps[i]![0])) return;
    this.readSets.delete(id);
    for (const p of old ? this.pathsOf(id, old) : []) {
      const r = this.readers.get(p);
      if (r === id) this.forget(p);
      else if (Array.isArray(r)) {
        const i = r.indexOf(id);
        if (i >= 0) r.splice(i, 1);
        if (r.length === 1) this.readers.set(p, r[0]!);
      } else if (r instanceof PositionBits) {
        r.delete(this.position.get(id)!);
        if (r.size === 1) this.readers.set(p, this.order[r.first()!]!);
      }
    }
    const paths = this.pathsOf(id, deps);
    for (const p of paths) {
      const r = this.readers.get(p);
      if (r === undefined) {
        this.readers.set(p, id);
        if (this.isUnwatched(p)) this.unwatched.add(p);
      } else if (typeof r === 'string') {
        if (r !== id) this.readers.set(p, [r, id]);
      } else if (Array.isArray(r)) {
        if (!r.includes(id)) {
          if (r.length < this.listedReaders) r.push(id);
          else this.readers.set(p, this.bitsOf([...r, id]));
        }
      } else r.add(this.position.get(id)!);
    }
    this.reads.set(id, deps);
    // Made now, after a build, rather than on the first edit after it (which it would slow down).
    if (paths.length > MANY_READS) this.readSets.set(id, new Set(paths));
  }

  /** Calls `f` with each action that reads `path`. */
  private eachReader(path: string, f: (id: string) => void): void {
    const r = this.readers.get(path);
    if (r === undefined) return;
    if (typeof r === 'string') f(r);
    else if (Array.isArray(r)) r.forEach((id) => f(id));
    else r.forEach((i) => f(this.order[i]!));
  }

  private bitsOf(ids: readonly string[]): PositionBits {
    const bits = new PositionBits(this.order.length);
    for (const id of ids) bits.add(this.position.get(id)!);
    return bits;
  }

  private forget(path: string): void {
    this.readers.delete(path);
    this.unwatched.delete(path);
  }
}
