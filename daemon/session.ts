import fs from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../base/crashPoint.js';
import type { StateDatabaseError } from '../base/errors.js';
import { BuildLock, lockTree, type LockHolder } from '../cache/buildLock.js';
import type { BuildSummary } from '../cache/history.js';
import { RemoteStore, type RemoteCacheReport } from '../cache/remoteStore.js';
import { closeScratch, openScratch, sweepScratch } from '../cache/scratch.js';
import { StateDb } from '../cache/stateDb.js';
import { DEFAULT_STORE_BYTES } from '../cache/store.js';
import type { Action } from '../graph/action.js';
import { build, type BuildEvent, type BuildResult } from '../graph/builder.js';
import { BuildInterruptedError } from '../graph/errors.js';
import { ShellPool } from '../graph/executor.js';
import { BuildGraph } from '../graph/graph.js';
import { hashValue } from '../graph/hash.js';
import { planBuild, type Plan } from '../graph/plan.js';
import { timelineOf, type BuildTimeline } from '../graph/timeline.js';
import { resolveCache } from '../osv/cacheConfig.js';
import { parseSets } from '../osv/knobs.js';
import { mapRootAway } from '../osv/pathMap.js';
import { Toolchain } from '../osv/toolchain.js';
import { CompileCommandsFile } from '../osv/compileCommands.js';
import { launcherFor } from '../osv/distribute.js';
import { openProjectBase, projectActions, withKnobs, type Project, type ProjectBase, type ProjectOptions } from '../osv/project.js';
import { openLog, type Logger } from './log.js';
import { mergeResults, preImportActions } from './preImport.js';

export type { LockHolder, RemoteCacheReport };

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
const LIVE_KNOBS = 'knobs';

/**
 * One tree's state, opened for one command (one-shot) or for the daemon's lifetime: the project,
 * its database, store and graphs. The daemon/ layer is the only one that knows every other layer.
 */
export class Session {
  private readonly graphs = new Map<string, LoadedGraph>();
  private readonly compileCommands = new CompileCommandsFile();
  private shells: { niceness: number; pool: ShellPool } | undefined;
  /** The daemon's housekeeping after its last build (see tidy), which the next build waits for. */
  private tidying: Promise<void> = Promise.resolve();
  /** The shared cache, when osv.config.ts or OSVD_CACHE_URL names one: then commands are path-independent too. */
  private remote: RemoteStore | undefined;
  private readonly toolchain = new Toolchain();

  private constructor(public base: ProjectBase, private readonly state: StateDb, readonly scratchDir: string, readonly log: Logger, readonly warnings: string[], private readonly longLived: boolean) {
    this.remote = this.openRemote();
  }

  /** The shared cache of the config and the environment (checked: a wrong one is an error naming it). */
  private openRemote(): RemoteStore | undefined {
    const settings = resolveCache(this.base.config.cache, process.env);
    if (!settings) return undefined;
    // Getters: a database replaced in use (see recoveringDatabase) comes with new ones.
    const state = this.state;
    const deps = { root: this.base.root, get files() { return state.files; }, get traces() { return state.traces; }, get store() { return state.store; } }; // prettier-ignore
    return new RemoteStore(settings, { ...deps, salt: (a) => this.toolchain.of(a) });
  }

  // What is kept in the database (made anew when it is replaced, see recoveringDatabase).
  get files() { return this.state.files; } // prettier-ignore
  get traces() { return this.state.traces; } // prettier-ignore
  get store() { return this.state.store; } // prettier-ignore
  get history() { return this.state.history; } // prettier-ignore
  get imports() { return this.state.imports; } // prettier-ignore
  get settings() { return this.state.settings; } // prettier-ignore

  /** `longLived`: the daemon's session, whose log is also checked against its size cap every minute. */
  static async open(options: ProjectOptions, longLived = false): Promise<Session> {
    const base = await openProjectBase(options);
    fs.mkdirSync(base.stateDir, { recursive: true, mode: 0o700 });
    const logger = openLog(base.stateDir, { longLived });
    // Before anything in the build folder is looked at: what a killed osvd left running is stopped.
    const reaped = sweepScratch(base.stateDir);
    if (reaped) logger.warn({ groups: reaped }, 'killed build commands that an osvd process which is gone had left running');
    // This process's scratch folder in the state folder (what a killed process left is swept on open).
    const scratchDir = openScratch(base.stateDir);
    const state = StateDb.open(base.stateDir, base.root, {
      maxBytes: base.config.store?.maxBytes ?? DEFAULT_STORE_BYTES,
      scratchDir,
      simulateFailure: process.env.OSVD_STORE_FAIL || undefined,
    });
    const warnings: string[] = [];
    const recovered = state.recovered;
    if (state.checkedMs !== undefined) logger.info({ ms: state.checkedMs }, 'state database checked (quick_check): a process did not close it, or a week passed');
    if (recovered) {
      const msg = `the state database was unusable (${recovered.reason}); it was moved to ${recovered.movedTo} and a new one was created: this build starts from scratch`;
      warnings.push(msg);
      logger.warn({ recovered }, msg);
    }
    return new Session(base, state, scratchDir, logger, warnings, longLived);
  }

  /** A failure of the state database as a typed error (undefined when `err` is something else). */
  databaseFailure(err: unknown): StateDatabaseError | undefined {
    return this.state.failure(err);
  }

  /**
   * Run `fn` (a build): when the database turns out corrupt in the middle, it is replaced as on open
   * and `fn` runs again, from scratch (see StateDb.recovering); `onRecovered` is told the warning.
   */
  recoveringDatabase<T>(fn: () => Promise<T>, onRecovered?: (warning: string) => Promise<void> | void): Promise<T> {
    return this.state.recovering(fn, (failure, movedTo) => onRecovered?.(this.replaced(failure, movedTo)));
  }

  /** Move a database found corrupt in use aside and start a new one: returns the warning. */
  replaceDatabase(failure: StateDatabaseError): string {
    return this.replaced(failure, this.state.replace(failure));
  }

  private replaced(failure: StateDatabaseError, movedTo: string): string {
    this.graphs.clear();
    this.compileCommands.forget();
    const msg = `${failure.message}; it was moved to ${movedTo} and a new one was created: this build starts from scratch`;
    this.warnings.push(msg);
    this.log.warn({ movedTo }, msg);
    return msg;
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
    await this.remote?.flush();
    this.remote?.close();
    this.remote = this.openRemote();
  }

  private graphKey(project: Project): string {
    return hashValue([project.knobs, project.config.makeVars ?? {}, project.config.targets ?? [], this.remote !== undefined]);
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
    const imported = this.pathIndependent(await projectActions(project, this.files, this.imports), project.root);
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

  /** With a shared cache, objects must not record where the tree is (see osv/pathMap.ts). */
  private pathIndependent<T extends { actions: Action[] }>(imported: T, root: string): T {
    return this.remote ? { ...imported, actions: mapRootAway(imported.actions, root) } : imported;
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
  /** Take the tree's build lock (`onWait` says for whom it waits) and kill what dead osvd processes left running (see lockTree). */
  async lockBuilds(command: string, onWait?: (holder: LockHolder | undefined) => void, signal?: AbortSignal): Promise<{ lock: BuildLock; reaped: number }> {
    const locked = await lockTree(this.base.stateDir, command, onWait, signal);
    if (locked.reaped) this.log.warn({ groups: locked.reaped }, 'killed build commands that an osvd process which is gone had left running');
    return locked;
  }

  /** Who builds in the tree now, if anyone does. */
  lockHolder(): LockHolder | undefined {
    return BuildLock.holder(this.base.stateDir);
  }

  async build(loaded: LoadedGraph, onEvent?: (e: BuildEvent) => void, niceness = 0, dirty?: ReadonlySet<string>, signal?: AbortSignal): Promise<BuildResult & { reloaded?: LoadedGraph; remoteCache?: RemoteCacheReport }> {
    await this.tidying;
    const startedAt = Date.now();
    const remoteBefore = this.remote?.counters();
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
        prepared = await this.runGraph(loaded.project, sub, onEvent, niceness, undefined, signal);
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
        result = await this.runGraph(loaded.project, loaded.graph, onEvent, niceness, dirty, signal);
      }
      if (prepared && prepared.ok) result = mergeResults(prepared, result);
    } catch (err) {
      if (err instanceof BuildInterruptedError) this.log.warn('build interrupted: its commands were killed');
      await this.store.settled();
      throw err;
    } finally {
      this.files.flush();
      this.traces.flush();
    }
    crashPoint('actions-done');
    // Uploads never hold the build; a one-shot process finishes them before it reports and exits.
    if (!this.longLived) await this.remote?.flush();
    // The daemon answers first and tidies up after (the next build, and the build lock, wait for it); a
    // command, before it ends.
    const tidied = loaded;
    if (this.longLived) this.tidying = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.tidy(tidied)).catch((err: unknown) => this.log.warn({ err }, 'tidying after the build failed'));
    else await this.tidy(loaded);
    this.recordBuild(loaded, result, startedAt, { raced: result.racedBecause, ...(result.distributed ? { distributed: result.distributed } : {}) },
      // Launched compiles run beside the local jobs: the timeline has a row for each slot of both.
      timelineOf(result, loaded.project.jobs + (result.distributed?.slots ?? 0)),
    );
    for (const f of result.failed) this.log.warn({ action: f.id, exitCode: f.exitCode }, 'action failed');
    const remoteCache = remoteBefore && this.remote?.reportSince(remoteBefore);
    if (remoteCache) {
      for (const w of remoteCache.warnings) this.log.warn(w);
      this.log.info({ remoteCache }, 'remote cache');
    }
    return { ...result, ...(reloaded ? { reloaded } : {}), ...(remoteCache ? { remoteCache } : {}) };
  }

  /** Finish the shared cache's uploads (a daemon about to stop). */
  async flushShared(): Promise<void> {
    await this.remote?.flush();
  }

  private async runGraph(project: Project, graph: BuildGraph, onEvent: ((e: BuildEvent) => void) | undefined, niceness: number, dirty: ReadonlySet<string> | undefined, signal: AbortSignal | undefined): Promise<BuildResult> {
    this.log.info({ knobs: project.knobs, actions: graph.actions.size }, 'build started');
    const shells = this.longLived ? this.shellPool(niceness) : undefined;
    const stateRel = path.relative(project.root, project.stateDir);
    const launcher = launcherFor({ distribute: project.config.distribute, configFile: project.configFile, env: project.baseEnv, scratchDir: this.scratchDir });
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
      shared: this.remote,
      signal,
      preprocess: project.config.preprocess,
      launcher,
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
    await this.store.settled();
    this.writeCompileCommands(loaded);
    const troubles = this.store.takeTroubles();
    if (troubles.length) this.log.warn({ troubles }, 'the store could not keep or restore some outputs (the build went on without it)');
    try {
      const evicted = this.store.evict();
      if (evicted) this.log.info({ evicted }, 'the store evicted its least recently used outputs');
    } catch (err) {
      this.log.warn({ err }, 'the store could not evict (the build is not affected)');
    }
  }

  /** Resolves once the last build's housekeeping is done (see tidy); it never fails. */
  async idle(): Promise<void> {
    await this.tidying;
  }

  /** The build's summary, in the history and the log. */
  private recordBuild(loaded: LoadedGraph, result: BuildResult, startedAt: number, more: object, timeline?: BuildTimeline): void {
    const summary: BuildSummary = {
      startedAt,
      finishedAt: Date.now(),
      ok: result.ok,
      ran: result.ran.length,
      restored: result.restored.length,
      cutoff: result.cutoff.length,
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
    this.remote?.close();
    this.shells?.pool.close();
    this.shells = undefined;
    this.state.close();
    closeScratch(this.scratchDir);
  }
}
