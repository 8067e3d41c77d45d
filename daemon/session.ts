import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Db } from '../cache/db.js';
import { FileState } from '../cache/fileState.js';
import { BuildHistory, type BuildSummary } from '../cache/history.js';
import { ImportDb } from '../cache/importDb.js';
import { closeScratch, openScratch } from '../cache/scratch.js';
import { Settings } from '../cache/settings.js';
import { StringPool } from '../cache/strings.js';
import { ContentStore, DEFAULT_STORE_BYTES } from '../cache/store.js';
import { TraceDb } from '../cache/traceDb.js';
import type { Action } from '../graph/action.js';
import { build, type BuildEvent, type BuildResult } from '../graph/builder.js';
import { ShellPool } from '../graph/executor.js';
import { BuildGraph } from '../graph/graph.js';
import { hashValue } from '../graph/hash.js';
import { planBuild, type Plan } from '../graph/plan.js';
import { timelineOf } from '../graph/timeline.js';
import { parseSets } from '../osv/knobs.js';
import { writeCompileCommands } from '../osv/compileCommands.js';
import { openProjectBase, projectActions, withKnobs, type Project, type ProjectBase, type ProjectOptions } from '../osv/project.js';
import { openLog, type Logger } from './log.js';

export interface LoadedGraph {
  readonly project: Project;
  readonly graph: BuildGraph;
  readonly importCached: boolean;
  readonly importMs: number;
  /** Makefiles make read: editing one re-imports the build. */
  readonly makefiles: readonly string[];
  /** What make read while parsing, with the hashes the import saw (see ProjectActions). */
  readonly readWhileParsing: readonly (readonly [string, string])[];
  /** How many actions of each kind (for status, which must not walk the graph each time). */
  readonly byKind: Readonly<Record<string, number>>;
}

/**
 * The actions that write a file make reads while parsing the Makefile, with everything they depend
 * on, in the graph's order.
 */
function preImportActions(loaded: LoadedGraph): string[] {
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
function mergeResults(first: BuildResult, rest: BuildResult): BuildResult {
  const done = first.ran.length + first.restored.length;
  return {
    ...rest,
    ran: [...first.ran, ...rest.ran],
    restored: [...first.restored, ...rest.restored],
    upToDate: Math.max(0, rest.upToDate - done),
    raced: [...first.raced, ...rest.raced],
    racedBecause: { ...first.racedBecause, ...rest.racedBecause },
    durationMs: first.durationMs + rest.durationMs,
  };
}

/** Graphs kept in memory (each is several MB at OSv scale; switching back re-reads the import cache). */
const GRAPHS_KEPT = 1;
const LIVE_KNOBS = 'knobs';

/**
 * One tree's state, opened for one command (one-shot) or for the daemon's lifetime: the project,
 * its database, store and graphs. The daemon/ layer is the only one that knows every other layer.
 */
export class Session {
  readonly files: FileState;
  readonly traces: TraceDb;
  readonly store: ContentStore;
  readonly history: BuildHistory;
  readonly imports: ImportDb;
  readonly settings: Settings;
  private readonly graphs = new Map<string, LoadedGraph>();
  /** The graph whose compile_commands.json was written last, and the file's stat then. */
  private compileCommandsWritten: { graph: BuildGraph; stamp: string } | undefined;
  private shells: { niceness: number; pool: ShellPool } | undefined;
  /** The daemon's housekeeping after its last build (see tidy), which the next build waits for. */
  private tidying: Promise<void> = Promise.resolve();

  /** This process's scratch folder in the state folder (what a killed process left is swept on open). */
  readonly scratchDir: string;

  private constructor(public base: ProjectBase, readonly db: Db, readonly log: Logger, readonly warnings: string[], private readonly longLived: boolean) {
    const strings = new StringPool();
    this.files = new FileState(db, base.root, strings);
    this.traces = new TraceDb(db, strings);
    this.scratchDir = openScratch(base.stateDir);
    this.store = new ContentStore(db, path.join(base.stateDir, 'store'), base.root, {
      maxBytes: base.config.store?.maxBytes ?? DEFAULT_STORE_BYTES,
      scratchDir: this.scratchDir,
      simulateFailure: process.env.OSVD_STORE_FAIL || undefined,
    });
    this.history = new BuildHistory(db);
    this.imports = new ImportDb(db);
    this.settings = new Settings(db);
  }

  /** `longLived`: the daemon's session, whose log is also checked against its size cap every minute. */
  static async open(options: ProjectOptions, longLived = false): Promise<Session> {
    const base = await openProjectBase(options);
    fs.mkdirSync(base.stateDir, { recursive: true, mode: 0o700 });
    const logger = openLog(base.stateDir, { longLived });
    const { db, recovered } = openDatabase(path.join(base.stateDir, 'state.db'));
    const warnings: string[] = [];
    if (recovered) {
      const msg = `the state database was unusable (${recovered.reason}); it was moved to ${recovered.movedTo} and a new one was created: this build starts from scratch`;
      warnings.push(msg);
      logger.warn({ recovered }, msg);
    }
    return new Session(base, db, logger, warnings, longLived);
  }

  get services() {
    return { files: this.files, traces: this.traces, store: this.store };
  }

  /** Knobs set with `osvd set`, kept in the database. */
  liveKnobs(): Record<string, string> {
    return this.settings.get<Record<string, string>>(LIVE_KNOBS) ?? {};
  }

  /** The project under the live knobs plus this command's `--set`s (validated). */
  project(sets: readonly string[] = []): Project {
    return withKnobs(this.base, this.liveKnobs(), sets);
  }

  /** `osvd set K=V ...`: check the knobs against the tree, then keep them. `reset` forgets them all. */
  setKnobs(sets: readonly string[], reset: boolean): Project {
    const live = reset ? {} : { ...this.liveKnobs(), ...parseSets(sets) };
    const project = withKnobs(this.base, live);
    if (Object.keys(live).length) this.settings.set(LIVE_KNOBS, live);
    else this.settings.delete(LIVE_KNOBS);
    return project;
  }

  /** Re-read osv.config.ts and the tree's facts (the daemon calls this when they change). */
  async reloadBase(options: ProjectOptions): Promise<void> {
    this.base = await openProjectBase(options);
    this.graphs.clear();
  }

  private graphKey(project: Project): string {
    return hashValue([project.knobs, project.config.makeVars ?? {}, project.config.targets ?? []]);
  }

  async graph(project: Project): Promise<LoadedGraph> {
    const key = this.graphKey(project);
    const cached = this.graphs.get(key);
    if (cached) {
      this.graphs.delete(key);
      this.graphs.set(key, cached);
      return cached;
    }
    const started = performance.now();
    const imported = await projectActions(project, this.files, this.imports);
    if (imported.removedDepfiles.length) this.log.warn({ depfiles: imported.removedDepfiles }, 'make could not read these depfiles (cut short?): removed, their compiles are redone');
    this.traces.adoptStrings(imported.actions.flatMap((a) => [a.id, ...a.commands, ...a.outputs]));
    const graph = new BuildGraph(
      imported.actions,
      (id) => this.traces.lastRun(id)?.deps.map(([p]) => p) ?? [],
      (id) => this.traces.lastRun(id)?.outputs.map((o) => o.path) ?? [],
    );
    this.log.info({ actions: graph.actions.size, importCached: imported.importCached, importMs: Math.round(imported.importMs), ms: Math.round(performance.now() - started) }, 'graph loaded');
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
    this.graphs.set(key, loaded);
    while (this.graphs.size > GRAPHS_KEPT) this.graphs.delete(this.graphs.keys().next().value!);
    return loaded;
  }

  /** Forget imported graphs (a makefile changed). */
  dropGraphs(): void {
    this.graphs.clear();
  }

  /** Drop what is cached in memory but can be read again (the daemon does this after each build). */
  trimMemory(): void {
    this.traces.clearCache();
  }

  /**
   * Build a loaded graph. Actions that write what make reads while it parses the Makefile (the app's
   * version script, which OSv's Makefile greps to choose iconv objects; Kconfig's kernel_conf.mk) run
   * first; when they changed such a file, the build is imported again before the rest runs, so the
   * first build links what the second would (make does the same when it remakes a makefile).
   * `reloaded` is the graph built then, when it is not `loaded`. `dirty`: the only actions that may not
   * be up to date, when the caller knows (see BuildOptions.dirty).
   */
  async build(loaded: LoadedGraph, onEvent?: (e: BuildEvent) => void, niceness = 0, dirty?: ReadonlySet<string>): Promise<BuildResult & { reloaded?: LoadedGraph }> {
    await this.tidying;
    const startedAt = Date.now();
    let prepared: BuildResult | undefined;
    let reloaded: LoadedGraph | undefined;
    let result: BuildResult;
    try {
      const first = preImportActions(loaded);
      if (first.length > 0 && !first.every((id) => dirty !== undefined && !dirty.has(id))) {
        const sub = new BuildGraph(
          first.map((id) => loaded.graph.get(id)),
          (id) => this.traces.lastRun(id)?.deps.map(([p]) => p) ?? [],
          (id) => this.traces.lastRun(id)?.outputs.map((o) => o.path) ?? [],
        );
        prepared = await this.runGraph(loaded.project, sub, onEvent, niceness, undefined);
        if (prepared.ok && this.parsedFilesChanged(loaded)) {
          this.graphs.delete(this.graphKey(loaded.project));
          this.log.info('an action rewrote a file make reads while parsing: importing again');
          loaded = reloaded = await this.graph(loaded.project);
          dirty = undefined;
        }
      }
      if (prepared && !prepared.ok) {
        // What waits for a failed action is not attempted: say so for the whole graph, as a build would.
        const skipped = new Set<string>();
        for (const f of prepared.failed) for (const d of loaded.graph.downstreamOf(f.id)) skipped.add(d);
        result = { ...prepared, skipped: [...prepared.skipped, ...skipped] };
      } else {
        result = await this.runGraph(loaded.project, loaded.graph, onEvent, niceness, dirty);
      }
      if (prepared && prepared.ok) result = mergeResults(prepared, result);
    } finally {
      this.files.flush();
      this.traces.flush();
    }
    // The daemon answers first and tidies up after (the next build waits for it); a command, before it ends.
    if (this.longLived) this.tidying = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.tidy(loaded));
    else await this.tidy(loaded);
    this.recordBuild(loaded, result, startedAt);
    return reloaded ? { ...result, reloaded } : result;
  }

  private async runGraph(project: Project, graph: BuildGraph, onEvent: ((e: BuildEvent) => void) | undefined, niceness: number, dirty: ReadonlySet<string> | undefined): Promise<BuildResult> {
    this.log.info({ knobs: project.knobs, actions: graph.actions.size }, 'build started');
    const shells = this.longLived ? this.shellPool(niceness) : undefined;
    const stateRel = path.relative(project.root, project.stateDir);
    return build(graph, this.services, {
      root: project.root,
      jobs: project.jobs,
      context: project.knobs,
      onEvent,
      niceness,
      scratchDir: this.scratchDir,
      dirty,
      shells,
      outputFolders: [project.outDir],
      skipFolder: (rel) => rel === stateRel,
    });
  }

  /** Whether a file make read while parsing is no longer what the import saw. */
  private parsedFilesChanged(loaded: LoadedGraph): boolean {
    return loaded.readWhileParsing.some(([p, h]) => {
      this.files.invalidate(p);
      return (this.files.hash(p) ?? 'missing') !== h;
    });
  }

  /**
   * What a build leaves to do that no answer needs: wait for the store's copies and keep it within its
   * cap, and write compile_commands.json. At 1,000 TUs, writing that file again after a profile switch
   * took 12 ms of the daemon's answer; the store's copies, as long as the largest output takes to copy.
   */
  private async tidy(loaded: LoadedGraph): Promise<void> {
    const { project, graph } = loaded;
    await this.store.settled();
    // For the knobs of what is now in the build folder, so clangd sees the flags these objects had.
    // The same graph writes the same file: it is written again only when it was changed or removed.
    try {
      const stamp = this.compileCommandsStamp(project);
      if (this.compileCommandsWritten?.graph !== graph || this.compileCommandsWritten.stamp !== stamp) {
        writeCompileCommands(project.root, project.outDir, [...graph.actions.values()]);
        this.compileCommandsWritten = { graph, stamp: this.compileCommandsStamp(project) };
      }
    } catch (err) {
      this.log.warn({ err }, 'could not write compile_commands.json');
    }
    const troubles = this.store.takeTroubles();
    if (troubles.length) this.log.warn({ troubles }, 'the store could not keep or restore some outputs (the build went on without it)');
    try {
      const evicted = this.store.evict();
      if (evicted) this.log.info({ evicted }, 'the store evicted its least recently used outputs');
    } catch (err) {
      this.log.warn({ err }, 'the store could not evict (the build is not affected)');
    }
  }

  /** Resolves once the last build's housekeeping is done (see tidy). */
  async idle(): Promise<void> {
    await this.tidying;
  }

  private recordBuild(loaded: LoadedGraph, result: BuildResult, startedAt: number): void {
    const { project } = loaded;
    const summary: BuildSummary = {
      startedAt,
      finishedAt: Date.now(),
      ok: result.ok,
      ran: result.ran.length,
      restored: result.restored.length,
      upToDate: result.upToDate,
      failed: result.failed.length,
      durationMs: Math.round(result.durationMs),
      knobs: project.knobs,
      ranOutputs: result.ran.slice(0, 200).map((e) => e.output),
    };
    this.history.add(summary, timelineOf(result, project.jobs));
    this.log.info({ ...summary, raced: result.racedBecause }, 'build finished');
    for (const f of result.failed) this.log.warn({ action: f.id, exitCode: f.exitCode }, 'action failed');
  }

  /** A build found nothing to do without deciding anything (the daemon's plan said so): record it. */
  recordUpToDate(loaded: LoadedGraph, durationMs: number): void {
    const now = Date.now();
    const summary: BuildSummary = {
      startedAt: now - Math.round(durationMs),
      finishedAt: now,
      ok: true,
      ran: 0,
      restored: 0,
      upToDate: loaded.graph.actions.size,
      failed: 0,
      durationMs: Math.round(durationMs),
      knobs: loaded.project.knobs,
      ranOutputs: [],
    };
    this.history.add(summary);
    this.log.info(summary, 'build finished: up to date');
  }

  /**
   * What a build would do now; reasons are worked out for the actions in `explain`. `only`: these
   * actions and what they depend on (see planBuild); the whole graph without it.
   */
  plan(loaded: LoadedGraph, explain?: ReadonlySet<string>, only?: ReadonlySet<string>): Plan {
    const plan = planBuild(loaded.graph, this.services, loaded.project.knobs, { explain, only });
    this.files.flush();
    return plan;
  }

  /** The action that writes `p` (a path relative to the cwd or the root), or whose TU `p` is. */
  findAction(loaded: LoadedGraph, p: string, cwd: string): Action | undefined {
    const { graph } = loaded;
    const candidates = [p, path.relative(this.base.root, path.resolve(cwd, p)), path.normalize(p)];
    for (const c of candidates) {
      const byOutput = graph.producerOf(c) ?? graph.actions.get(c);
      if (byOutput) return byOutput;
    }
    for (const c of candidates) {
      for (const a of graph.actions.values()) if (a.source === c) return a;
    }
    return undefined;
  }

  private compileCommandsStamp(project: Project): string {
    const st = fs.statSync(path.join(project.root, project.outDir, 'compile_commands.json'), { bigint: true, throwIfNoEntry: false });
    return st ? `${st.size}:${st.mtimeNs}:${st.ino}` : '';
  }

  /** Remove the build folder's outputs; the store keeps them for the next build to restore. */
  clean(project: Project, all: boolean): string[] {
    const removed: string[] = [];
    const out = path.join(project.root, project.outDir);
    if (fs.existsSync(out)) {
      fs.rmSync(out, { recursive: true, force: true });
      removed.push(project.outDir);
    }
    this.files.invalidateAll();
    if (all) {
      this.close();
      fs.rmSync(project.stateDir, { recursive: true, force: true });
      removed.push(path.relative(project.root, project.stateDir));
    }
    return removed;
  }

  /** The daemon's shells, kept between builds (for one niceness). */
  private shellPool(niceness: number): ShellPool {
    if (this.shells?.niceness !== niceness) {
      this.shells?.pool.close();
      this.shells = { niceness, pool: new ShellPool(niceness, this.scratchDir) };
    }
    return this.shells.pool;
  }

  close(): void {
    this.shells?.pool.close();
    this.shells = undefined;
    this.store.close();
    this.traces.flush();
    if (this.db.open) this.db.close();
    closeScratch(this.scratchDir);
  }
}
