import fs from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../base/crashPoint.js';
import type { StateDatabaseError } from '../base/errors.js';
import { BuildLock, lockTree, type LockHolder } from '../cache/buildLock.js';
import { RemoteStore, type RemoteCacheReport } from '../cache/remoteStore.js';
import { closeScratch, openScratch, sweepScratch } from '../cache/scratch.js';
import { StateDb } from '../cache/stateDb.js';
import { DEFAULT_STORE_BYTES } from '../cache/store.js';
import { build, type BuildEvent, type BuildResult } from '../graph/builder.js';
import { BuildInterruptedError } from '../graph/errors.js';
import { ShellPool } from '../graph/executor.js';
import type { BuildGraph } from '../graph/graph.js';
import { planBuild, type Plan } from '../graph/plan.js';
import { resolveCache } from '../osv/cacheConfig.js';
import { parseSets } from '../osv/knobs.js';
import { Toolchain } from '../osv/toolchain.js';
import { openProjectBase, withKnobs, type Project, type ProjectBase, type ProjectOptions } from '../osv/project.js';
import type { BuildChoices, ProgressEvent } from './buildChoices.js';
import { openLog, type Logger } from './log.js';
import { countShared, recordFinishedBuild } from './buildRecord.js';
import { mergeResults, preImportActions } from './preImport.js';
import { builderOptions } from './builderOptions.js';
import { RacySettling } from './racySettling.js';
import { Housekeeping } from './housekeeping.js';
import { graphOf, LoadedGraphs, type LoadedGraph } from './loadedGraphs.js';
import { RunningBuild } from './runningBuild.js';
import { inStateFolder } from './stateFolder.js';

export type { LoadedGraph, LockHolder, RemoteCacheReport };

const LIVE_KNOBS = 'knobs';

/**
 * One tree's state, opened for one command (one-shot) or for the daemon's lifetime: the project,
 * its database, store and graphs. The daemon/ layer is the only one that knows every other layer.
 */
export class Session {
  private readonly graphs = new LoadedGraphs(this, () => this.remote !== undefined);
  /** What builds leave to do (the store's copies and cap, compile_commands.json), which the next build waits for. */
  private readonly housekeeping = new Housekeeping(this);
  /** The racy hashes builds leave, hashed again once they can vouch (see RacySettling). */
  private readonly racy: RacySettling;
  private shells: { niceness: number; pool: ShellPool } | undefined;
  /** The shared cache, when osv.config.ts or OSVD_CACHE_URL names one: then commands are path-independent too. */
  private remote: RemoteStore | undefined;
  private readonly toolchain = new Toolchain();

  private constructor(public base: ProjectBase, private readonly state: StateDb, readonly scratchDir: string, readonly log: Logger, readonly warnings: string[], private readonly longLived: boolean) {
    this.remote = this.openRemote();
    this.racy = new RacySettling(() => this.files, longLived);
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
  get counters() { return this.state.counters; } // prettier-ignore
  /** See StateDb.checkpoint. */
  checkpoint(): void {
    this.state.checkpoint();
  }

  /** `longLived`: the daemon's session, whose log is also checked against its size cap every minute. */
  static async open(options: ProjectOptions, longLived = false): Promise<Session> {
    const base = await openProjectBase(options);
    const { logger, scratchDir } = inStateFolder(base.stateDir, () => {
      fs.mkdirSync(base.stateDir, { recursive: true, mode: 0o700 });
      const logger = openLog(base.stateDir, { longLived });
      // Before anything in the build folder is looked at: what a killed osvd left running is stopped.
      const reaped = sweepScratch(base.stateDir);
      if (reaped) logger.warn({ groups: reaped }, 'killed build commands that an osvd process which is gone had left running');
      // This process's scratch folder in the state folder (what a killed process left is swept on open).
      return { logger, scratchDir: openScratch(base.stateDir) };
    });
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
    this.housekeeping.forget();
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

  /** `pause`: awaited now and then while the graph's last runs are read (the daemon answers meanwhile). */
  async graph(project: Project, pause?: () => Promise<void>): Promise<LoadedGraph> {
    return this.graphs.get(project, pause);
  }

  /** Forget imported graphs (a makefile changed). */
  dropGraphs(): void {
    this.graphs.clear();
  }

  /** Drop what is cached in memory but can be read again (the daemon does this after each build). */
  trimMemory(): void {
    this.traces.clearCache();
  }

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

  /**
   * Build a loaded graph. Actions that write what make reads while it parses the Makefile (the app's
   * version script, which OSv's Makefile greps to choose iconv objects; Kconfig's kernel_conf.mk) run
   * first; when they changed such a file, the build is imported again before the rest runs, so the
   * first build links what the second would (make does the same when it remakes a makefile).
   * `reloaded` is the graph built then, when it is not `loaded`. `dirty`: the only actions that may not
   * be up to date, when the caller knows (see BuildOptions.dirty). `choices`: targets, -j, -k, colours,
   * the signal that stops it.
   */
  async build(
    loaded: LoadedGraph,
    onEvent?: (e: ProgressEvent) => void,
    niceness = 0,
    dirty?: ReadonlySet<string>,
    choices: BuildChoices = {},
  ): Promise<BuildResult & { reloaded?: LoadedGraph; remoteCache?: RemoteCacheReport }> {
    await this.housekeeping.idle();
    const startedAt = Date.now();
    const remoteBefore = this.remote?.counters();
    const jobs = choices.jobs ?? loaded.project.jobs;
    const tracker = choices.tracker ?? this.tracker(loaded, choices, dirty);
    const track = (e: BuildEvent): void => {
      tracker.track(e);
      onEvent?.({ ...e, etaMs: tracker.etaMs() });
    };
    // The actions before the import run whatever the targets: make reads what they write.
    const { targets, tracker: _, ...runChoices } = choices;
    let prepared: BuildResult | undefined;
    let reloaded: LoadedGraph | undefined;
    let result: BuildResult;
    this.racy.buildStarted();
    try {
      const first = preImportActions(loaded);
      if (first.length > 0 && !first.every((id) => dirty !== undefined && !dirty.has(id))) {
        const sub = graphOf(first.map((id) => loaded.graph.get(id)), () => this.traces);
        prepared = await this.runGraph(loaded.project, sub, track, niceness, undefined, runChoices);
        if (prepared.ok && this.parsedFilesChanged(loaded)) {
          this.graphs.forget(loaded.project);
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
        // A target named by a path is found again in a graph imported anew (its ids are paths too).
        const stillThere = targets?.filter((t) => loaded.graph.actions.has(t));
        result = await this.runGraph(loaded.project, loaded.graph, track, niceness, dirty, { ...runChoices, targets: stillThere });
      }
      if (prepared && prepared.ok) result = mergeResults(prepared, result);
    } catch (err) {
      if (err instanceof BuildInterruptedError) this.log.warn('build interrupted: its commands were killed');
      await this.store.settled();
      throw err;
    } finally {
      this.racy.buildEnded();
      this.files.flush();
      this.traces.flush();
      this.store.flushTouches();
    }
    crashPoint('actions-done');
    // Uploads never hold the build; a one-shot process finishes them before it reports and exits.
    if (!this.longLived) await this.remote?.flush();
    // The daemon answers first and tidies up after (the next build, and the build lock, wait for it); a
    // command, before it ends.
    if (this.longLived) this.housekeeping.later(loaded);
    else await this.housekeeping.now(loaded);
    recordFinishedBuild(this, loaded, result, startedAt, jobs);
    const remoteCache = remoteBefore && this.remote?.reportSince(remoteBefore);
    if (remoteCache) {
      for (const w of remoteCache.warnings) this.log.warn(w);
      this.log.info({ remoteCache }, 'remote cache');
      countShared(this, remoteCache);
    }
    return { ...result, ...(reloaded ? { reloaded } : {}), ...(remoteCache ? { remoteCache } : {}) };
  }

  /** The shared cache this session uses, if any (for osvd stats). */
  get sharedCache(): { readonly url: string; readonly mode: string } | undefined {
    return this.remote?.settings;
  }

  /** Finish the shared cache's uploads (a daemon about to stop). */
  async flushShared(): Promise<void> {
    await this.remote?.flush();
  }

  private async runGraph(
    project: Project,
    graph: BuildGraph,
    onEvent: ((e: BuildEvent) => void) | undefined,
    niceness: number,
    dirty: ReadonlySet<string> | undefined,
    choices: Omit<BuildChoices, 'tracker'>,
  ): Promise<BuildResult> {
    const jobs = choices.jobs ?? project.jobs;
    this.log.info({ knobs: project.knobs, actions: graph.actions.size, targets: choices.targets, jobs }, 'build started');
    const shells = this.longLived ? this.shellPool(niceness) : undefined;
    return build(graph, this.services, builderOptions(project, { ...choices, jobs }, { onEvent, niceness, dirty, shells, scratchDir: this.scratchDir, shared: this.remote }));
  }

  /** Whether a file make read while parsing is no longer what the import saw. */
  private parsedFilesChanged(loaded: LoadedGraph): boolean {
    return loaded.readWhileParsing.some(([p, h]) => {
      this.files.invalidate(p);
      return (this.files.hash(p) ?? 'missing') !== h;
    });
  }

  /** Resolves once the last build's housekeeping is done; it never fails. */
  async idle(): Promise<void> {
    await this.housekeeping.idle();
  }

  /** compile_commands.json for what is now in the build folder (see Housekeeping.writeCompileCommands). */
  writeCompileCommands(loaded: LoadedGraph): void {
    this.housekeeping.writeCompileCommands(loaded);
  }

  /**
   * A tracker of a build's progress. With `dirty` (the daemon's plan) the actions that may run
   * are known; otherwise every action of the build is a candidate.
   */
  tracker(loaded: LoadedGraph, choices: BuildChoices, dirty?: ReadonlySet<string>): RunningBuild {
    const { graph, project } = loaded;
    const scope = choices.targets ? graph.withUpstream(choices.targets) : graph.actions.keys();
    const candidates: string[] = [];
    for (const id of scope) if (!dirty || dirty.has(id)) candidates.push(id);
    return new RunningBuild(candidates, dirty !== undefined, choices.jobs ?? project.jobs, (id) => this.traces.lastRun(id)?.durationMs);
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
    this.racy.stop();
    this.remote?.close();
    this.shells?.pool.close();
    this.shells = undefined;
    try {
      this.state.close();
    } finally {
      closeScratch(this.scratchDir);
    }
  }
}
