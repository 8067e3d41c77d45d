import type { BuildGraph } from './graph.js';

/** When an action's work started and ended, in ms since its build started. */
export interface ActionTime {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The critical path of a finished build, as Bazel reports it: the chain of dependent actions whose
 * durations add up to the most. No number of job slots makes the build shorter than that chain; how
 * much longer the build took shows what waiting for a slot cost. Actions without a time (up to date)
 * count for nothing but still connect what is above them to what is below. Returns ids, first to last.
 */
export function criticalChain(graph: BuildGraph, timeOf: (id: string) => ActionTime | undefined, only?: ReadonlySet<string>): string[] {
  const own = (id: string): number => {
    const t = timeOf(id);
    return t ? Math.max(0, t.endMs - t.startMs) : 0;
  };
  // The longest chain ending at each action, and the action before it on that chain.
  const total = new Map<string, number>();
  const before = new Map<string, string>();
  let last: string | undefined;
  for (const id of only ? orderWithin(graph, only) : graph.topologicalOrder()) {
    let best = 0;
    // Indexed: this runs once a build, too seldom for V8 to optimize it, and a for-of then makes an
    // object per step (the kernel link has 50,000 predecessors).
    const preds = graph.predecessors(id);
    for (let i = 0; i < preds.length; i++) {
      const p = preds[i]!;
      if (only && !only.has(p)) continue;
      const t = total.get(p)!;
      if (t > best) {
        best = t;
        before.set(id, p);
      }
    }
    const sum = best + own(id);
    total.set(id, sum);
    if (timeOf(id) && (last === undefined || sum > total.get(last)!)) last = id;
  }
  const chain: string[] = [];
  for (let id = last; id !== undefined; id = before.get(id)) if (timeOf(id)) chain.push(id);
  return chain.reverse();
}

/** The actions of `only` in an order where each comes after its predecessors among them. */
function orderWithin(graph: BuildGraph, only: ReadonlySet<string>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  for (const start of only) {
    const stack = [start];
    while (stack.length > 0) {
      const id = stack[stack.length - 1]!;
      if (placed.has(id)) {
        stack.pop();
        continue;
      }
      let ready = true;
      const preds = graph.predecessors(id);
      for (let i = 0; i < preds.length; i++) {
        const p = preds[i]!;
        if (only.has(p) && !placed.has(p)) {
          stack.push(p);
          ready = false;
        }
      }
      if (!ready) continue;
      stack.pop();
      placed.add(id);
      order.push(id);
    }
  }
  return order;
}
