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

export function planBuild(
  graph: BuildGraph,
  services: { files: FileHasher; traces: TraceStore; store: OutputStore },
  context: BuildContext,
  options: { explainAll?: boolean; only?: ReadonlySet<string> } = {},
): Plan {
  const { files, traces, store } = services;
  const entries = new Map<string, PlanEntry>();
  const counts: Record<PlanState, number> = { upToDate: 0, restore: 0, run: 0, pending: 0 };
  const dirty = new Set<string>();
  for (const id of graph.topologicalOrder()) {
    const action = graph.get(id);
    const last = traces.lastRun(id);
    const pendingProducer = (p: string): string | undefined => {
      const producer = graph.producerOf(p);
      return producer && dirty.has(producer.id) ? producer.id : undefined;
    };
    const readsDirty = action.inputs.some((p) => pendingProducer(p) !== undefined) || (last?.deps ?? []).some(([p]) => pendingProducer(p) !== undefined);
    let state: PlanState;
    if (readsDirty) state = 'pending';
    else state = decide(action, files, traces, store).state;
    if (state !== 'upToDate') dirty.add(id);
    counts[state]++;
    const wantReasons = state !== 'upToDate' && (options.explainAll || options.only?.has(id));
    const reasons = wantReasons
      ? explain({ action, files, lastRun: last, lastFailure: traces.lastFailure(id), context, pendingProducer, producerOf: (p) => graph.producerOf(p)?.id })
      : [];
    entries.set(id, { state, reasons });
  }
  return { entries, counts };
}
