import type { Action } from './action.js';
import { GraphError } from './errors.js';

/** The edge list of an action with none, shared. */
const NONE: readonly string[] = Object.freeze([]);

/**
 * The static shape of a build: actions, which action produces each file, and the edges between
 * actions. Discovered dependencies (from depfiles) can add ordering edges, so that a compile waits for
 * the generator of a header it included last time.
 */
export class BuildGraph {
  readonly actions: ReadonlyMap<string, Action>;
  private readonly producers = new Map<string, string>();
  /** Edges while the graph is built (sets, for de-duplication)... */
  private readonly before = new Map<string, Set<string>>();
  private readonly after = new Map<string, Set<string>>();
  /** ...and once it is: lists, which take far less memory. */
  private readonly beforeList = new Map<string, readonly string[]>();
  private readonly afterList = new Map<string, readonly string[]>();
  /** The graph does not change once built: its order is computed on first use. */
  private order: readonly string[] | undefined;
  /** Files actions were seen writing without naming them (see learnedOutputsOf). */
  private readonly learned = new Map<string, readonly string[]>();

  /**
   * `learnedOutputs`: files an action with open outputs wrote last time without its recipe naming them
   * (its last run's outputs beyond the declared ones). They are its outputs like the declared ones:
   * `why` knows them and readers order after it. A file another action declares stays that action's.
   */
  constructor(actions: Iterable<Action>, discoveredDeps: (id: string) => readonly string[] = () => [], learnedOutputs: (id: string) => readonly string[] = () => []) {
    const byId = new Map<string, Action>();
    for (const action of actions) {
      if (byId.has(action.id)) throw new GraphError(`two actions are named '${action.id}'`);
      byId.set(action.id, action);
      for (const out of action.outputs) {
        const other = this.producers.get(out);
        if (other !== undefined && other !== action.id) {
          throw new GraphError(`'${out}' is written by two actions: '${other}' and '${action.id}'`);
        }
        this.producers.set(out, action.id);
      }
    }
    this.actions = byId;
    for (const action of byId.values()) {
      this.before.set(action.id, new Set());
      if (!this.after.has(action.id)) this.after.set(action.id, new Set());
    }
    for (const action of byId.values()) {
      for (const input of action.inputs) this.addEdgeFromProducer(input, action.id);
      for (const input of action.tracedInputs ?? NONE) this.addEdgeFromProducer(input, action.id);
      for (const dep of action.orderAfter) {
        if (!byId.has(dep)) throw new GraphError(`'${action.id}' must run after unknown action '${dep}'`);
        this.addEdge(dep, action.id);
      }
    }
    this.checkAcyclic();
    // Learned outputs are registered after the check: like discovered dependencies, they only order
    // readers after their writer, and never make a cycle (what an action wrote last time can be stale).
    const learnedFrom = new Map<string, string>();
    for (const action of byId.values()) {
      if (!action.outputsOpen) continue;
      const mine: string[] = [];
      for (const out of learnedOutputs(action.id)) {
        if (this.producers.has(out)) continue;
        this.producers.set(out, action.id);
        learnedFrom.set(out, action.id);
        mine.push(out);
      }
      if (mine.length) this.learned.set(action.id, mine);
    }
    if (learnedFrom.size > 0) {
      for (const action of byId.values()) {
        for (const input of [...action.inputs, ...(action.tracedInputs ?? NONE)]) {
          const producer = learnedFrom.get(input);
          if (producer !== undefined && producer !== action.id && !this.reaches(action.id, producer)) this.addEdge(producer, action.id);
        }
      }
    }
    // Discovered dependencies only order; they never make a cycle (a stale depfile can name anything).
    for (const action of byId.values()) {
      for (const dep of discoveredDeps(action.id)) {
        const producer = this.producers.get(dep);
        if (producer === undefined || producer === action.id) continue;
        if (this.reaches(action.id, producer)) continue;
        this.addEdge(producer, action.id);
      }
    }
    for (const [id, set] of this.before) this.beforeList.set(id, set.size ? [...set] : NONE);
    for (const [id, set] of this.after) this.afterList.set(id, set.size ? [...set] : NONE);
    this.before.clear();
    this.after.clear();
  }

  /** The files an action with open outputs was seen writing beyond its declared outputs. */
  learnedOutputsOf(id: string): readonly string[] {
    return this.learned.get(id) ?? NONE;
  }

  producerOf(path: string): Action | undefined {
    const id = this.producers.get(path);
    return id === undefined ? undefined : this.actions.get(id);
  }

  get(id: string): Action {
    const action = this.actions.get(id);
    if (!action) throw new GraphError(`no action named '${id}'`);
    return action;
  }

  /** Actions that must finish before `id` starts. */
  predecessors(id: string): readonly string[] {
    return this.beforeList.get(id) ?? (this.before.has(id) ? [...this.before.get(id)!] : NONE);
  }

  /** Actions that wait for `id`. */
  successors(id: string): readonly string[] {
    return this.afterList.get(id) ?? (this.after.has(id) ? [...this.after.get(id)!] : NONE);
  }

  /** Every action downstream of `id` (not including it). */
  downstreamOf(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [...this.successors(id)];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      for (const s of this.successors(next)) stack.push(s);
    }
    return seen;
  }

  /** Every action `id` depends on, directly or not (not including it). */
  upstreamOf(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [...this.predecessors(id)];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      for (const p of this.predecessors(next)) stack.push(p);
    }
    return seen;
  }

  /** The actions `ids` (each must be in the graph) and every action they depend on. */
  withUpstream(ids: Iterable<string>): Set<string> {
    const all = new Set<string>();
    for (const id of ids) {
      this.get(id);
      all.add(id);
      for (const u of this.upstreamOf(id)) all.add(u);
    }
    return all;
  }

  /** A topological order (Kahn's algorithm), stable with respect to insertion order; computed once. */
  topologicalOrder(): readonly string[] {
    this.order ??= this.computeOrder();
    return this.order;
  }

  private computeOrder(): string[] {
    const indegree = new Map<string, number>();
    for (const [id, preds] of this.before) indegree.set(id, preds.size);
    for (const [id, preds] of this.beforeList) indegree.set(id, preds.length);
    const queue: string[] = [];
    for (const [id, n] of indegree) if (n === 0) queue.push(id);
    const order: string[] = [];
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i]!;
      order.push(id);
      for (const s of this.successors(id)) {
        const n = indegree.get(s)! - 1;
        indegree.set(s, n);
        if (n === 0) queue.push(s);
      }
    }
    return order;
  }

  private addEdgeFromProducer(path: string, consumer: string): void {
    const producer = this.producers.get(path);
    if (producer !== undefined && producer !== consumer) this.addEdge(producer, consumer);
  }

  private addEdge(from: string, to: string): void {
    this.order = undefined;
    this.before.get(to)!.add(from);
    this.after.get(from)!.add(to);
  }

  private reaches(from: string, to: string): boolean {
    if (from === to) return true;
    return this.downstreamOf(from).has(to);
  }

  private checkAcyclic(): void {
    if (this.topologicalOrder().length === this.actions.size) return;
    // Name one cycle so the user can find it.
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (id: string): string[] | undefined => {
      state.set(id, 'open');
      path.push(id);
      for (const s of this.successors(id)) {
        if (state.get(s) === 'open') return [...path.slice(path.indexOf(s)), s];
        if (!state.has(s)) {
          const cycle = visit(s);
          if (cycle) return cycle;
        }
      }
      path.pop();
      state.set(id, 'done');
      return undefined;
    };
    for (const id of this.actions.keys()) {
      if (state.has(id)) continue;
      const cycle = visit(id);
      if (cycle) throw new GraphError(`dependency cycle: ${cycle.join(' -> ')}`);
    }
  }
}
