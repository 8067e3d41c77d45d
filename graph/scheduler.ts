import type { Action } from './action.js';
import type { BuildGraph } from './graph.js';

/**
 * The scheduler's one idea, from ninja and Buck2: start the action with the longest remaining
 * critical path first, using the durations recorded last time (or a guess by kind).
 */
const GUESS_MS: Record<Action['kind'], number> = { compile: 500, link: 1500, generate: 50, other: 50 };

export function criticalPaths(graph: BuildGraph, durationOf: (id: string) => number | undefined, only?: ReadonlySet<string>): Map<string, number> {
  const cost = new Map<string, number>();
  const own = (id: string): number => durationOf(id) ?? GUESS_MS[graph.get(id).kind];
  if (!only) {
    const order = graph.topologicalOrder();
    for (let i = order.length - 1; i >= 0; i--) {
      const id = order[i]!;
      let tail = 0;
      for (const s of graph.successors(id)) tail = Math.max(tail, cost.get(s) ?? 0);
      cost.set(id, own(id) + tail);
    }
    return cost;
  }
  // Over `only` (the actions a build will look at): a walk of them alone, not of the graph's order.
  for (const start of only) {
    if (cost.has(start)) continue;
    const stack: string[] = [start];
    while (stack.length > 0) {
      const id = stack[stack.length - 1]!;
      let ready = true;
      for (const s of graph.successors(id)) {
        if (only.has(s) && !cost.has(s)) {
          stack.push(s);
          ready = false;
        }
      }
      if (!ready) continue;
      stack.pop();
      if (cost.has(id)) continue;
      let tail = 0;
      for (const s of graph.successors(id)) if (only.has(s)) tail = Math.max(tail, cost.get(s)!);
      cost.set(id, own(id) + tail);
    }
  }
  return cost;
}

/** A max-heap of ready actions by priority. */
export class ReadyQueue {
  private readonly heap: { id: string; priority: number }[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(id: string, priority: number): void {
    const heap = this.heap;
    heap.push({ id, priority });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.priority >= heap[i]!.priority) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  pop(): string | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && heap[l]!.priority > heap[best]!.priority) best = l;
        if (r < heap.length && heap[r]!.priority > heap[best]!.priority) best = r;
        if (best === i) break;
        [heap[best], heap[i]] = [heap[i]!, heap[best]!];
        i = best;
      }
    }
    return top.id;
  }
}
