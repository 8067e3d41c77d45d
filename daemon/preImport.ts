import type { BuildResult } from '../graph/builder.js';
import type { LoadedGraph } from './session.js';

/**
 * The actions that write a file make reads while parsing the Makefile, with everything they depend
 * on, in the graph's order.
 */
export function preImportActions(loaded: LoadedGraph): string[] {
  const wanted = new Set<string>();
  for (const [p] of loaded.readWhileParsing) {
    const producer = loaded.graph.producerOf(p);
    if (!producer || wanted.has(producer.id)) continue;
    wanted.add(producer.id);
    for (const u of loaded.graph.upstreamOf(producer.id)) wanted.add(u);
  }
  return loaded.graph.topologicalOrder().filter((id) => wanted.has(id));
}

/** The result of the actions run before the import, and of the build after it (which found them up to date). */
export function mergeResults(first: BuildResult, rest: BuildResult): BuildResult {
  const done = first.ran.length + first.restored.length + first.cutoff.length;
  return {
    ...rest,
    ran: [...first.ran, ...rest.ran],
    restored: [...first.restored, ...rest.restored],
    cutoff: [...first.cutoff, ...rest.cutoff],
    upToDate: Math.max(0, rest.upToDate - done),
    raced: [...first.raced, ...rest.raced],
    racedBecause: { ...first.racedBecause, ...rest.racedBecause },
    durationMs: first.durationMs + rest.durationMs,
    jobs: { limit: rest.jobs.limit, peak: Math.max(first.jobs.peak, rest.jobs.peak) },
  };
}
