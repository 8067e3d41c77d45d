import type { Action } from '../graph/action.js';
import { BuildGraph } from '../graph/graph.js';
import { hashValue } from '../graph/hash.js';
import type { TraceStore } from '../graph/traces.js';
import { mapRootAway } from '../osv/pathMap.js';
import { projectActions, type Project } from '../osv/project.js';
import type { Session } from './session.js';

export interface LoadedGraph {
  readonly project: Project;
  readonly graph: BuildGraph;
  readonly importCached: boolean;
  readonly importMs: number;
  /** Makefiles make read and the compilers' files: a change to one re-imports the build. */
  readonly makefiles: readonly string[];
  /** What make read while parsing, with the hashes the import saw (see ProjectActions). */
  readonly readWhileParsing: readonly (readonly [string, string])[];
  /** How many actions of each kind (for status, which must not walk the graph each time). */
  readonly byKind: Readonly<Record<string, number>>;
}

/** Graphs kept in memory (each is several MB at OSv scale; switching back re-reads the import cache). */
const GRAPHS_KEPT = 1;

/**
 * A graph of `actions` whose discovered dependencies and learned outputs are their last runs'.
 * `traces` is asked each time: a database replaced in use comes with new ones (Session.recoveringDatabase).
 */
export function graphOf(actions: readonly Action[], traces: () => TraceStore): BuildGraph {
  return new BuildGraph(
    actions,
    (id) => traces().lastRun(id)?.deps.map(([p]) => p) ?? [],
    (id) => traces().lastRun(id)?.outputs.map((o) => o.path) ?? [],
  );
}

/**
 * A session's imported graphs, by what they were imported for (knobs, make variables, targets, and
 * whether a shared cache makes commands path-independent): the most recent GRAPHS_KEPT.
 */
export class LoadedGraphs {
  private readonly graphs = new Map<string, LoadedGraph>();
  /** Counts clear()s and forget()s: an import that began before one may have read what changed since, and is not kept. */
  private generation = 0;

  /** `pathIndependent`: whether the session uses a shared cache now (see osv/pathMap.ts). */
  constructor(
    private readonly session: Session,
    private readonly pathIndependent: () => boolean,
  ) {}

  private key(project: Project): string {
    return hashValue([project.knobs, project.config.makeVars ?? {}, project.config.targets ?? [], this.pathIndependent()]);
  }

  /** `pause`: awaited now and then while the last runs are read (see TraceDb.preloadLastRuns). */
  async get(project: Project, pause?: () => Promise<void>): Promise<LoadedGraph> {
    const key = this.key(project);
    const cached = this.graphs.get(key);
    if (cached) {
      this.graphs.delete(key);
      this.graphs.set(key, cached);
      return cached;
    }
    const { files, imports, traces, log } = this.session;
    const generation = this.generation;
    const started = performance.now();
    const imported = this.withRootMapped(await projectActions(project, files, imports), project.root);
    if (imported.removedDepfiles.length) log.warn({ depfiles: imported.removedDepfiles }, 'make could not read these depfiles (cut short?): removed, their compiles are redone');
    // The graph reads last runs as it is made: they share its actions' strings from the start.
    const byId = new Map(imported.actions.map((a) => [a.id, a] as const));
    traces.adoptActions(byId);
    await traces.preloadLastRuns(byId, pause);
    const graph = graphOf(imported.actions, () => this.session.traces);
    traces.adoptActions(graph.actions);
    log.info({ actions: graph.actions.size, importCached: imported.importCached, importMs: Math.round(imported.importMs), ms: Math.round(performance.now() - started) }, 'graph loaded');
    const byKind: Record<string, number> = {};
    for (const a of graph.actions.values()) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    const loaded: LoadedGraph = {
      project,
      graph,
      importCached: imported.importCached,
      importMs: imported.importMs,
      makefiles: imported.makefiles,
      readWhileParsing: imported.readWhileParsing,
      byKind,
    };
    if (generation !== this.generation) return loaded;
    this.graphs.set(key, loaded);
    while (this.graphs.size > GRAPHS_KEPT) this.graphs.delete(this.graphs.keys().next().value!);
    return loaded;
  }

  /** With a shared cache, objects must not record where the tree is (see osv/pathMap.ts). */
  private withRootMapped<T extends { actions: Action[] }>(imported: T, root: string): T {
    return this.pathIndependent() ? { ...imported, actions: mapRootAway(imported.actions, root) } : imported;
  }

  /** Forget the graph of `project` (its import is out of date). */
  forget(project: Project): void {
    this.generation++;
    this.graphs.delete(this.key(project));
  }

  /** Forget every graph (a makefile or the config changed, the database was replaced). */
  clear(): void {
    this.generation++;
    this.graphs.clear();
  }
}
