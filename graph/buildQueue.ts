import type { BuildGraph } from './graph.js';
import { ReadyQueue } from './scheduler.js';

/**
 * What a build still waits for and what it can start now: ninja's Plan (its `ready_` and
 * `EdgeFinished`), without the running of commands. An action is ready when every action before it
 * has finished; a failure skips everything downstream of it.
 */
export class BuildQueue {
  /** How many actions before each one have yet to finish. */
  private readonly waitingOn = new Map<string, number>();
  private readonly ready = new ReadyQueue();
  private readonly skippedSet = new Set<string>();
  /** The skipped actions in the order they were skipped, for the build's result. */
  readonly skipped: string[] = [];
  private finishedCount = 0;

  /**
   * `priority`: the order to start ready actions in, highest first (see criticalPaths). `only`: the
   * actions to build, waiting only for each other (default: every action); the others count as done.
   * The targets' upstream (`make foo.o`) or the daemon's dirty actions, or both at once.
   */
  constructor(
    private readonly graph: BuildGraph,
    private readonly priority: ReadonlyMap<string, number>,
    private readonly only?: ReadonlySet<string>,
  ) {
    for (const id of only ?? graph.actions.keys()) {
      const before = graph.predecessors(id);
      const n = only ? before.reduce((k, p) => (only.has(p) ? k + 1 : k), 0) : before.length;
      this.waitingOn.set(id, n);
      if (n === 0) this.ready.push(id, priority.get(id) ?? 0);
    }
  }

  /** Actions finished, whatever their state (skipped ones are not counted). */
  get finished(): number {
    return this.finishedCount;
  }

  get total(): number {
    return this.only?.size ?? this.graph.actions.size;
  }

  /** Whether some action may be ready (one that `next` would pass over as skipped counts too). */
  hasReady(): boolean {
    return this.ready.size > 0;
  }

  /** The ready action to start next, or undefined when none is. */
  next(): string | undefined {
    while (this.ready.size > 0) {
      const id = this.ready.pop()!;
      if (!this.skippedSet.has(id)) return id;
    }
    return undefined;
  }

  /** Mark an action finished: what waited only for it becomes ready, or, when it failed, is skipped. */
  finish(id: string, failed: boolean): void {
    this.finishedCount++;
    if (failed) {
      for (const d of this.graph.downstreamOf(id)) {
        if (!this.skippedSet.has(d) && (!this.only || this.only.has(d))) {
          this.skippedSet.add(d);
          this.skipped.push(d);
        }
      }
      return;
    }
    for (const s of this.graph.successors(id)) {
      if (this.only && !this.only.has(s)) continue;
      const n = this.waitingOn.get(s)! - 1;
      this.waitingOn.set(s, n);
      if (n === 0 && !this.skippedSet.has(s)) this.ready.push(s, this.priority.get(s) ?? 0);
    }
  }

  /** Every action either finished or skipped. */
  allAccounted(): boolean {
    return this.finishedCount + this.skippedSet.size === this.total;
  }
}
