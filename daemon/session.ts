import fs from 'node:fs';
import path from 'node:path';
import { StateDatabaseError } from '../base/errors.js';
import { databaseFailure, openDatabase, replaceDatabase, type Db } from '../cache/db.js';
import { FileState } from '../cache/fileState.js';
import { BuildHistory, type BuildSummary } from '../cache/history.js';
import { ImportDb } from '../cache/importDb.js';
import { crashPoint } from '../base/crashPoint.js';
import { BuildLock, type LockHolder } from '../cache/buildLock.js';
import { closeScratch, openScratch, sweepScratch } from '../cache/scratch.js';
import { Settings } from '../cache/settings.js';
import { StringPool } from '../cache/strings.js';
import { ContentStore, DEFAULT_STORE_BYTES } from '../cache/store.js';
import { TraceDb } from '../cache/traceDb.js';
import { build, type BuildEvent, type BuildResult } from '../graph/builder.js';
import { BuildInterruptedError } from '../graph/errors.js';
import { ShellPool } from '../graph/executor.js';
import { BuildGraph } from '../graph/graph.js';
import { hashValue } from '../graph/hash.js';
import { planBuild, type Plan } from '../graph/plan.js';
import { timelineOf, type BuildTimeline } from '../graph/timeline.js';
import { parseSets } from '../osv/knobs.js';
import { CompileCommandsFile } from '../osv/compileCommands.js';
import { openProjectBase, projectActions, withKnobs, type Project, type ProjectBase, type ProjectOptions } from '../osv/project.js';
import { openLog, type Logger } from './log.js';

export type { LockHolder };

export interface LoadedGraph {
  readonly project: Project;
  readonly graph: BuildGraph;
  readonly importCached: boolean;
  readonly importMs: number;
  /** Makefiles make read: editing one re-imports the build. */
  readonly makefiles: readonly string[];
  /** How many actions of each kind (for status, which must not walk the graph each time). */
  readonly byKind: Readonly<Record<string, number>>;
}

/** Graphs kept in memory (each is several MB at OSv scale; switching back re-reads the import cache). */
const GRAPHS_KEPT = 1;
const LIVE_KNOBS = 'knobs';

/**
 * One tree's state, opened for one command (one-shot) or for the daemon's lifetime: the project,
 * its database, store and graphs. The daemon/ layer is the only one that knows every other layer.
 */
export class Session {
  // Made anew with the database when it is replaced (see recoveringDatabase).
  files!: FileState;
  traces!: TraceDb;
  store!: ContentStore;
  history!: BuildHistory;
  imports!: ImportDb;
  settings!: Settings;
  private readonly graphs = new Map<string, LoadedGraph>();
  private readonly compileCommands = new CompileCommandsFile();
  private shells: { niceness: number; pool: ShellPool } | undefined;

  /** This process's scratch folder in the state folder (what a killed process left is swept on open). */
  readonly scratchDir: string;

  private constructor(public base: ProjectBase, private db: Db, readonly log: Logger, readonly warnings: string[], private readonly longLived: boolean) {
    this.scratchDir = openScratch(base.stateDir);
    this.attach(db);
  }

  /** The state kept in the database, on `db`. */
  private attach(db: Db): void {
    const strings = new StringPool();
    this.db = db;
    this.files = new FileState(db, this.base.root, strings);
    this.traces = new TraceDb(db, strings);
    this.store = new ContentStore(db, path.join(this.base.stateDir, 'store'), this.base.root, {
      maxBytes: this.base.config.store?.maxBytes ?? DEFAULT_STORE_BYTES,
      scratchDir: this.scratchDir,
      simulateFailure: process.env.OSVD_STORE_FAIL || undefined,
    });
    this.history = new BuildHistory(db);
    this.imports = new ImportDb(db);
    this.settings = new Settings(db);
  }

  private get dbFile(): string {
    return path.join(this.base.stateDir, 'state.db');
  }

  /** A failure of the state database as a typed error (undefined when `err` is something else). */
  databaseFailure(err: unknown): StateDatabaseError | undefined {
    return databaseFailure(err, this.dbFile);
  }

  /**
   * Run `fn` (a build); when the database turns out corrupt in the middle of it (a page quick_check
   * did not read), move it aside, make a new one and run `fn` once more, from scratch, as a corrupt
   * database found on open is handled. `onRecovered` is told the warning. Any other failure of SQLite
   * comes out as a StateDatabaseError.
   */
  async recoveringDatabase<T>(fn: () => Promise<T>, onRecovered?: (warning: string) => Promise<void> | void): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const failure = this.databaseFailure(err);
      if (!failure) throw err;
      if (!failure.corrupt) throw failure;
      await onRecovered?.(this.replaceDatabase(failure));
      try {
        return await fn();
      } catch (again) {
        throw this.databaseFailure(again) ?? again;
      }
    }
  }

  /** Move a database found corrupt in use aside and start a new one: returns the warning. */
  replaceDatabase(failure: StateDatabaseError): string {
    this.store.close();
    const { db, recovered } = replaceDatabase(this.db, failure, this.dbFile);
    this.attach(db);
    this.graphs.clear();
    this.compileCommands.forget();
    const msg = `${failure.message}; it was moved to ${recovered!.movedTo} and a new one was created: this build starts from scratch`;
    this.warnings.push(msg);
    this.log.warn({ recovered }, msg);
    return msg;
  }

  /** `longLived`: the daemon's session, whose log is also checked against its size cap every minute. */
  static async open(options: ProjectOptions, longLived = false): Promise<Session> {
    const base = await openProjectBase(options);
    fs.mkdirSync(base.stateDir, { recursive: true, mode: 0o700 });
    const logger = openLog(base.stateDir, { longLived });
    // Before anything in the build folder is looked at: what a killed osvd left running is stopped.
    const reaped = sweepScratch(base.stateDir);
    if (reaped) logger.warn({ groups: reaped }, 'killed build commands that an osvd process which is gone had left running');
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

  async graph(project: Project): Promise<LoadedGraph> {
    const key = hashValue([project.knobs, project.config.makeVars ?? {}, project.config.targets ?? []]);
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
    const graph = new BuildGraph(imported.actions, (id) => this.traces.lastRun(id)?.deps.map(([p]) => p) ?? []);
    this.log.info({ actions: graph.actions.size, importCached: imported.importCached, importMs: Math.round(imported.importMs), ms: Math.round(performance.now() - started) }, 'graph loaded');
    const byKind: Record<string, number> = {};
    for (const a of graph.actions.values()) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    const loaded: LoadedGraph = { project, graph, importCached: imported.importCached, importMs: imported.importMs, makefiles: imported.makefiles, byKind };
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
   * Take the tree's build lock (waiting while another osvd process builds; `onWait` says for whom),
   * then kill what osvd processes that are gone left running, before anything in the build folder is
   * trusted. `reaped`: how many such process groups there were (outputs may have changed meanwhile).
   */
  async lockBuilds(command: string, onWait?: (holder: LockHolder | undefined) => void, signal?: AbortSignal): Promise<{ lock: BuildLock; reaped: number }> {
    const lock = await BuildLock.acquire(this.base.stateDir, command, onWait, signal);
    try {
      const reaped = sweepScratch(this.base.stateDir);
      if (reaped) this.log.warn({ groups: reaped }, 'killed build commands that an osvd process which is gone had left running');
      return { lock, reaped };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Who builds in the tree now, if anyone does. */
  lockHolder(): LockHolder | undefined {
    return BuildLock.holder(this.base.stateDir);
  }

  async build(loaded: LoadedGraph, onEvent?: (e: BuildEvent) => void, niceness = 0, knownUpToDate?: (id: string) => boolean, signal?: AbortSignal): Promise<BuildResult> {
    const { project, graph } = loaded;
    const startedAt = Date.now();
    this.log.info({ knobs: project.knobs, actions: graph.actions.size }, 'build started');
    let result: BuildResult;
    try {
      const shells = this.longLived ? this.shellPool(niceness) : undefined;
      result = await build(graph, this.services, { root: project.root, jobs: project.jobs, context: project.knobs, onEvent, niceness, scratchDir: this.scratchDir, knownUpToDate, shells, signal });
    } catch (err) {
      if (err instanceof BuildInterruptedError) this.log.warn('build interrupted: its commands were killed');
      throw err;
    } finally {
      this.files.flush();
      this.traces.flush();
      await this.store.settled();
    }
    crashPoint('actions-done');
    this.writeCompileCommands(loaded);
    const troubles = this.store.takeTroubles();
    if (troubles.length) this.log.warn({ troubles }, 'the store could not keep or restore some outputs (the build went on without it)');
    let evicted = 0;
    try {
      evicted = this.store.evict();
    } catch (err) {
      this.log.warn({ err }, 'the store could not evict (the build is not affected)');
    }
    this.recordBuild(loaded, result, startedAt, { evicted, raced: result.racedBecause }, timelineOf(result, project.jobs));
    for (const f of result.failed) this.log.warn({ action: f.id, exitCode: f.exitCode }, 'action failed');
    return result;
  }

  /** The build's summary, in the history and the log. */
  private recordBuild(loaded: LoadedGraph, result: BuildResult, startedAt: number, more: object, timeline?: BuildTimeline): void {
    const summary: BuildSummary = {
      startedAt,
      finishedAt: Date.now(),
      ok: result.ok,
      ran: result.ran.length,
      restored: result.restored.length,
      upToDate: result.upToDate,
      failed: result.failed.length,
      durationMs: Math.round(result.durationMs),
      knobs: loaded.project.knobs,
      ranOutputs: result.ran.slice(0, 200).map((e) => e.output),
    };
    this.history.add(summary, timeline);
    this.log.info({ ...summary, ...more }, result.ran.length + result.restored.length + result.failed.length ? 'build finished' : 'build finished: up to date');
  }

  /**
   * compile_commands.json for the knobs of what is now in the build folder, so clangd sees the flags
   * these objects had. Every build ends here, one with nothing to do included: osvd writes the file
   * itself, not through an action, so no trace says whether it is current (a process killed after
   * its last action but before this line leaves the file of other knobs, every action up to date).
   */
  writeCompileCommands(loaded: LoadedGraph): void {
    try {
      this.compileCommands.update(loaded.project.root, loaded.project.outDir, loaded.graph, () => [...loaded.graph.actions.values()]);
    } catch (err) {
      this.log.warn({ err }, 'could not write compile_commands.json');
    }
  }

  /** A build found nothing to do without deciding anything (the daemon's plan said so): record it. */
  recordUpToDate(loaded: LoadedGraph, result: BuildResult): void {
    this.writeCompileCommands(loaded);
    this.recordBuild(loaded, result, Date.now() - Math.round(result.durationMs), {});
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
