import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Db } from '../cache/db.js';
import { FileState } from '../cache/fileState.js';
import { BuildHistory, ImportCache, type BuildSummary } from '../cache/history.js';
import { ContentStore, DEFAULT_STORE_BYTES } from '../cache/store.js';
import { TraceDb } from '../cache/traceDb.js';
import type { Action } from '../graph/action.js';
import { build, primaryOutput, type BuildEvent, type BuildResult } from '../graph/builder.js';
import { BuildGraph } from '../graph/graph.js';
import { planBuild, type Plan } from '../graph/plan.js';
import { openProject, projectActions, type Project, type ProjectOptions } from '../osv/project.js';
import { openLog, type Logger } from './log.js';

/**
 * One tree's state, opened for one command (one-shot) or for the daemon's lifetime: the project,
 * its database, store and graph. The daemon/ layer is the only one that knows every other layer.
 */
export class Session {
  readonly files: FileState;
  readonly traces: TraceDb;
  readonly store: ContentStore;
  readonly history: BuildHistory;
  readonly imports: ImportCache;
  private graphCache: { graph: BuildGraph; importCached: boolean; importMs: number } | undefined;

  private constructor(readonly project: Project, readonly db: Db, readonly log: Logger, readonly warnings: string[]) {
    this.files = new FileState(db, project.root);
    this.traces = new TraceDb(db);
    this.store = new ContentStore(db, path.join(project.stateDir, 'store'), project.root, project.config.store?.maxBytes ?? DEFAULT_STORE_BYTES);
    this.history = new BuildHistory(db);
    this.imports = new ImportCache(db);
  }

  static async open(options: ProjectOptions): Promise<Session> {
    const project = await openProject(options);
    const log = openLog(project.stateDir);
    const { db, recovered } = openDatabase(path.join(project.stateDir, 'state.db'));
    const warnings: string[] = [];
    if (recovered) {
      const msg = `the state database was unusable (${recovered.reason}); it was moved to ${recovered.movedTo} and a new one was created: this build starts from scratch`;
      warnings.push(msg);
      log.warn({ recovered }, msg);
    }
    return new Session(project, db, log, warnings);
  }

  get services() {
    return { files: this.files, traces: this.traces, store: this.store };
  }

  async graph(): Promise<{ graph: BuildGraph; importCached: boolean; importMs: number }> {
    if (!this.graphCache) {
      const started = performance.now();
      const imported = await projectActions(this.project, this.files, this.imports);
      const graph = new BuildGraph(imported.actions, (id) => this.traces.lastRun(id)?.deps.map(([p]) => p) ?? []);
      this.log.info({ actions: graph.actions.size, importCached: imported.importCached, importMs: Math.round(imported.importMs), ms: Math.round(performance.now() - started) }, 'graph loaded');
      this.graphCache = { graph, importCached: imported.importCached, importMs: imported.importMs };
    }
    return this.graphCache;
  }

  async build(onEvent?: (e: BuildEvent) => void): Promise<BuildResult> {
    const startedAt = Date.now();
    const { graph } = await this.graph();
    this.log.info({ knobs: this.project.knobs, actions: graph.actions.size }, 'build started');
    let result: BuildResult;
    try {
      result = await build(graph, this.services, { root: this.project.root, jobs: this.project.jobs, context: this.project.knobs, onEvent });
    } finally {
      this.files.flush();
    }
    const evicted = this.store.evict();
    const summary: BuildSummary = {
      startedAt,
      finishedAt: Date.now(),
      ok: result.ok,
      ran: result.ran.length,
      restored: result.restored.length,
      upToDate: result.upToDate,
      failed: result.failed.length,
      durationMs: Math.round(result.durationMs),
      knobs: this.project.knobs,
    };
    this.history.add(summary);
    this.log.info({ ...summary, evicted, raced: result.raced }, 'build finished');
    for (const f of result.failed) this.log.warn({ action: f.id, exitCode: f.exitCode }, 'action failed');
    return result;
  }

  async plan(only?: ReadonlySet<string>): Promise<Plan> {
    const { graph } = await this.graph();
    const plan = planBuild(graph, this.services, this.project.knobs, { only });
    this.files.flush();
    return plan;
  }

  /** The action that writes `p` (a path relative to the cwd or the root), or whose TU `p` is. */
  async findAction(p: string, cwd: string): Promise<Action | undefined> {
    const { graph } = await this.graph();
    const candidates = [p, path.relative(this.project.root, path.resolve(cwd, p)), path.normalize(p)];
    for (const c of candidates) {
      const byOutput = graph.producerOf(c) ?? graph.actions.get(c);
      if (byOutput) return byOutput;
    }
    for (const c of candidates) {
      for (const a of graph.actions.values()) if (a.source === c) return a;
    }
    return undefined;
  }

  /** Remove the build folder's outputs; the store keeps them for the next build to restore. */
  clean(all: boolean): string[] {
    const removed: string[] = [];
    const out = path.join(this.project.root, this.project.outDir);
    if (fs.existsSync(out)) {
      fs.rmSync(out, { recursive: true, force: true });
      removed.push(this.project.outDir);
    }
    if (all) {
      this.close();
      fs.rmSync(this.project.stateDir, { recursive: true, force: true });
      removed.push(path.relative(this.project.root, this.project.stateDir));
    }
    return removed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export { primaryOutput };
