import path from 'node:path';
import { OneAtATime } from '../base/oneAtATime.js';
import { pausePoint } from '../base/crashPoint.js';
import { BuildInterruptedError } from '../graph/errors.js';
import { LivePlan } from '../graph/plan.js';
import { CONFIG_FILE } from '../osv/config.js';
import type { Project, ProjectOptions } from '../osv/project.js';
import { AutoBuild } from './autoBuild.js';
import { BlindSpots } from './blindSpots.js';
import { buildReport, dryRunReport, resolveTargets, type BuildProgress, type BuildReport, type DryRunReport } from './answers.js';
import type { BuildChoices, BuildRequest, ProgressEvent } from './buildChoices.js';
import { recordUpToDate } from './buildRecord.js';
import { BuildTurns } from './buildTurns.js';
import type { BuildControl } from './clientBuilds.js';
import { expandGoneFolders } from './goneFolders.js';
import { IdleCollection } from './idleCollection.js';
import type { Logger } from './log.js';
import { ReadContent } from './readContent.js';
import type { RunningBuild } from './runningBuild.js';
import type { LoadedGraph, Session } from './session.js';
import type { WatcherHealth } from './changeSource.js';
import { trackedPaths } from './trackedPaths.js';
import { TreeView } from './treeView.js';

export type DaemonOptions = ProjectOptions & { autoBuild?: boolean };

/**
 * The daemon's graph for the live knobs, with a plan kept current by the tree's view (treeView.ts:
 * watchman or the folder watcher, checked by stat where they cannot vouch; periodic stat scans when
 * watching fails), and the builds of it: run one at a time, in the order asked, and started by
 * themselves after edits when auto-build is on.
 */
export class LiveGraph {
  private current!: LoadedGraph;
  private livePlan!: LivePlan;
  /**
   * Reloads run one at a time: two at once (a makefile changed while the config's import ran) could
   * end in either order, and the graph imported from the older files would stay.
   */
  private readonly reloads = new OneAtATime(() => this.reload());
  /**
   * Why the graph is being loaded again, while a reload a change or a build asked for is waiting or
   * running (see `reloadFor`), and whether the makefiles are what changed (else only the plan is made again).
   */
  private reloading: { why: string; reimport: boolean } | null = null;
  private failedReload: Error | null = null;
  /** Builds asked for and not yet done (their lock released). */
  private underway = 0;
  private outputsTimer: NodeJS.Timeout | undefined;
  private reloadsAsked = 0;
  /** osv.config.ts changed since the last reload began: the next one reads it first. */
  private configStale = false;
  private readonly view: TreeView;
  private readonly blindSpots: BlindSpots;
  private building: RunningBuild | null = null;
  private readonly turns = new BuildTurns();
  /** Resolves once the last build's lock is released (see build). */
  private lockReleased: Promise<void> = Promise.resolve();
  private readonly autoBuilds = new AutoBuild({
    enabled: () => this.autoBuild && !this.closed,
    quietMs: () => this.session.base.config.daemon?.quietMs ?? 300,
    stale: () => this.livePlan.staleIn(),
    busy: () => this.turns.busy,
    build: () => void this.build([], undefined, {}).catch((err) => this.log.error({ err }, 'automatic build failed to start')),
  });
  private readonly gc = new IdleCollection();
  private updateMs = 0;
  private closed = false;
  private changesDuringBuild = new Set<string>();
  /** The changed paths reported while a new plan is made (see reload); null when none is being made. */
  private changesWhilePlanning: string[] | null = null;
  /** The actions of the plan being made; null when none is. */
  private planning: number | null = null;
  /** What start() is doing; null once the daemon has started. */
  private startStep: string | null = 'opening the tree';
  /** Aborted when the daemon stops: the build in progress is interrupted. */
  private readonly closing = new AbortController();
  private readonly log: Logger;
  /** The config's files and the makefiles as read: an event that leaves their content so reloads nothing. */
  private readonly readContent: ReadContent;

  constructor(private readonly session: Session, private readonly options: DaemonOptions) {
    this.log = session.log;
    this.readContent = new ReadContent(session.files);
    const base = session.base;
    // Taken once: the view is not restarted when osv.config.ts changes, so what it ignores stays.
    this.view = new TreeView({
      root: base.root,
      ignore: ['.git', 'node_modules', path.relative(base.root, base.stateDir), ...(base.config.daemon?.ignore ?? [])],
      outputs: 'build',
      watcher: base.config.daemon?.watcher,
      pollMs: base.config.daemon?.pollMs ?? 2000,
      files: session.files,
      log: this.log,
      tracked: () => trackedPaths(this.current, this.livePlan, this.configPaths()),
      onChanges: (paths) => this.onChanges(paths),
      onOutputChanges: () => this.outputsLater(),
    });
    this.blindSpots = new BlindSpots(base.root, this.view, () => this.outputsLater());
  }

  /** The graph for the live knobs. */
  get loaded(): LoadedGraph {
    return this.current;
  }

  /** What a build of the live graph would do now. */
  get plan(): LivePlan {
    return this.livePlan;
  }

  get health(): WatcherHealth {
    return this.view.health;
  }

  /** Why the plan may miss changes while every tracked path is checked (events lost); null when current. */
  get verifying(): string | null {
    return this.view.verifying;
  }

  /** Why the makefiles are being imported again (the graph and plan shown are the last ones until it ends); null when they are not. */
  /**
   * The last reload's failure (make rejected an edited makefile, osv.config.ts does not load); null
   * once a reload succeeds. Until then the live graph is the last good import's, which no build may
   * use: each build tries the reload again and fails as a one-shot build would.
   */
  get importFailure(): string | null {
    if (!this.failedReload) return null;
    // "make rejected the build (make ...):" then make's own words: the first line that says something.
    const lines = this.failedReload.message.split('\n').filter((l) => l.trim() !== '');
    return lines.find((l) => !l.endsWith(':')) ?? lines[0] ?? 'the import failed';
  }

  get reimporting(): string | null {
    return this.reloading?.reimport ? this.reloading.why : null;
  }

  /** Why the plan is being made again after a build (the counts shown are the last plan's until it ends); null when it is not. */
  get replanning(): string | null {
    return this.reloading && !this.reloading.reimport ? this.reloading.why : null;
  }

  /** Reload for a reason status shows until every reload asked for has ended. */
  private reloadFor(why: string, reimport = true): Promise<void> {
    this.reloading = { why, reimport };
    this.reloadsAsked++;
    return this.reloads.run().finally(() => {
      if (--this.reloadsAsked === 0) this.reloading = null;
    });
  }

  /** What the daemon is doing while it starts (requests wait for it); null once it has started. */
  get starting(): string | null {
    if (this.startStep === null) return null;
    const actions = this.planning;
    return actions !== null ? `deciding what is stale (${actions.toLocaleString('en-US')} actions)` : this.startStep;
  }

  /** How long the last batch of changes took to be taken into account. */
  get lastUpdateMs(): number {
    return this.updateMs;
  }

  get autoBuild(): boolean {
    return this.options.autoBuild ?? this.session.base.config.daemon?.autoBuild ?? false;
  }

  /** A pause in long work (the start's reads, a reload, a plan): requests are answered meanwhile. */
  private readonly slice = async (): Promise<void> => {
    if (this.closed) throw new BuildInterruptedError('the daemon is stopping: its plan was left unmade');
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  /** Load the graph and start watching the tree. */
  async start(): Promise<void> {
    this.session.store.warm();
    await this.view.open();
    // With watchman, changes from here on are reported: what the first plan looks at after this is
    // not checked again by stat (at 50,000 TUs, 270,000 paths).
    this.startStep = 'asking the watcher where the tree stands';
    if (await this.view.mark()) this.session.files.invalidateAll();
    this.readContent.noteNow(this.configRels());
    // The first plan looks at every tracked file, none known yet in this process.
    this.startStep = 'loading the graph (importing the makefiles unless they are known)';
    try {
      await this.session.files.beginBulkPaged(this.slice);
      await this.reloads.run();
    } finally {
      this.session.files.endBulk();
    }
    this.startStep = 'starting the watch';
    await pausePoint('before-watch');
    await this.view.start();
    this.startStep = null;
  }

  /** Look at every file afresh and reload the graph (`osvd refresh`). */
  async refresh(): Promise<void> {
    this.session.files.invalidateAll();
    await this.reloadFor('osvd refresh');
  }

  /** `osvd set`: keep the knobs, load the graph for them (and build it, with auto-build). */
  async setKnobs(sets: readonly string[], reset: boolean): Promise<Project> {
    const project = this.session.setKnobs(sets, reset);
    await this.reloadFor(reset ? 'osvd set --reset' : `osvd set ${sets.join(' ')}`);
    this.autoBuilds.schedule();
    return project;
  }

  /**
   * The files the config is read from; with none, the osv.config.ts the tree could get (a daemon
   * started before it existed reads it once it is written).
   */
  private configPaths(): readonly string[] {
    const base = this.session.base;
    return base.configFiles.length ? base.configFiles : [path.join(base.root, CONFIG_FILE)];
  }

  private configRels(): string[] {
    return this.configPaths().map((f) => path.relative(this.session.base.root, f));
  }

  /** (Re)load the graph for the live knobs and compute its plan from scratch (through `reloads`). */
  private async reload(): Promise<void> {
    // The config is read again in turn too: two reads at once could also end in either order.
    if (this.configStale) {
      this.configStale = false;
      await this.session.reloadBase(this.options);
      this.readContent.noteNow(this.configRels());
    }
    this.session.trimMemory();
    // The config was read without FileState: its state now is the one the checks compare with.
    for (const f of this.configPaths()) this.session.files.hash(path.relative(this.session.base.root, f));
    // The last runs are read, and the plan made, in slices: requests are answered meanwhile.
    const slice = this.slice;
    let loaded: LoadedGraph;
    try {
      loaded = await this.session.graph(this.session.project(), slice);
      this.failedReload = null;
    } catch (err) {
      this.failedReload = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
    this.readContent.noteSeen(loaded.readWhileParsing);
    this.blindSpots.watchOutputs(loaded);
    // The plan is made in slices (requests are answered meanwhile); until it is done, status shows
    // the last graph and plan, and what changes is noted for it.
    this.changesWhilePlanning = [];
    if (this.startStep !== null) this.startStep = 'deciding what is stale';
    let plan: LivePlan;
    try {
      plan = await LivePlan.inSlices(loaded.graph, this.session.services, loaded.project.knobs, this.blindSpots.test(loaded), async () => {
        this.planning = loaded.graph.actions.size;
        await slice();
      });
      await pausePoint('plan-made');
    } finally {
      this.planning = null;
    }
    const missed = this.changesWhilePlanning;
    this.changesWhilePlanning = null;
    this.current = loaded;
    this.livePlan = plan;
    if (missed.length) {
      const paths = this.changedPaths(missed);
      this.log.info({ changed: paths.length, replanned: plan.update(paths) }, 'files changed while the plan was made');
    }
    this.session.files.flush();
    this.session.traces.compact();
    // An import leaves its parse behind as garbage (hundreds of MB at 50,000 TUs).
    this.gc.soon();
  }

  /**
   * Outputs changed while no build runs (removed with rm -rf, rewritten by hand): the plan learns it
   * soon after, so that status says what is stale (before, only the next build looked). What a build
   * writes is looked at by the next build (see blindSpots.take), not here.
   */
  private outputsLater(): void {
    if (this.underway > 0 || this.outputsTimer) return;
    this.outputsTimer = setTimeout(() => {
      this.outputsTimer = undefined;
      if (this.underway > 0 || this.reloading || this.changesWhilePlanning) return;
      const changed = this.session.files.changedSince(this.blindSpots.takeOutputs());
      if (changed.length === 0) return;
      this.log.info({ changed: changed.length, replanned: this.livePlan.update(changed) }, 'outputs changed outside a build');
      this.session.files.flush();
      this.autoBuilds.schedule();
    }, OUTPUTS_SETTLE_MS);
    this.outputsTimer.unref();
  }

  /** A batch of changed paths: re-import when the config or a makefile changed, else update the plan. */
  private async onChanges(changes: string[]): Promise<void> {
    const started = performance.now();
    const configRels = this.configRels();
    const makefiles = new Set(this.current.makefiles);
    const paths = this.changedPaths(changes);
    this.changesWhilePlanning?.push(...changes);
    if (this.building) for (const p of paths) this.changesDuringBuild.add(p);
    try {
      let changedMakefiles: string[] = [];
      if (this.readContent.changed(configRels.filter((c) => paths.includes(c))).length > 0) {
        this.log.info('osv.config.ts changed: reloading');
        this.configStale = true;
        await this.reloadFor('osv.config.ts changed');
      } else if (
        (changedMakefiles = this.readContent.changed(paths.filter((p) => makefiles.has(p)))).length > 0 ||
        // After a failed import a makefile mended back to what the last good import read is a change too.
        (this.failedReload !== null && (changedMakefiles = paths.filter((p) => makefiles.has(p) || configRels.includes(p))).length > 0)
      ) {
        this.log.info({ paths: changedMakefiles }, 'a makefile changed: re-importing');
        this.session.dropGraphs();
        await this.reloadFor(`${changedMakefiles.length === 1 ? 'a makefile' : `${changedMakefiles.length} makefiles`} changed: ${changedMakefiles.slice(0, 3).join(', ')}${changedMakefiles.length > 3 ? ', ...' : ''}`);
      } else {
        const n = this.livePlan.update(paths);
        this.session.files.flush();
        this.log.debug({ changed: paths.length, replanned: n }, 'plan updated');
      }
    } catch (err) {
      this.log.error({ err }, 'could not take changes into account');
    }
    this.updateMs = performance.now() - started;
    this.autoBuilds.schedule();
  }

  /** The paths a batch of changes stands for (a folder gone: every path read under it), forgotten by FileState. */
  private changedPaths(changes: string[]): string[] {
    const paths = expandGoneFolders(changes, [this.livePlan.readPaths(), this.current.makefiles, this.configRels()]);
    for (const p of paths) this.session.files.invalidate(p);
    return paths;
  }

  /**
   * Builds run one at a time, in the order asked, and each holds the tree's build lock (a one-shot
   * `osvd build --no-daemon` may hold it: the build waits, and `onWait` says for whom). An aborted
   * `signal` (its client went away) stops the build, or drops it if it has not started. `request`:
   * targets (outputs or sources) to build with what they need instead of everything, -j, -k, colours.
   */
  build(sets: readonly string[], onEvent: ((e: ProgressEvent) => void) | undefined, request: BuildRequest, control: BuildControl = {}): Promise<BuildReport> {
    const run = async (): Promise<BuildReport> => {
      const signal = control.signal ? AbortSignal.any([control.signal, this.closing.signal]) : this.closing.signal;
      signal.throwIfAborted();
      // Outputs that change from now until the lock is released are this build's to look at.
      this.underway++;
      let released: Promise<void> = Promise.resolve();
      try {
        await this.lockReleased;
        const command = `osvd daemon (pid ${process.pid}): build${sets.length ? ` --set ${sets.join(' --set ')}` : ''}`;
        const { lock, reaped } = await this.session.lockBuilds(command, control.onWait, signal);
        let recovered = false;
        try {
          // A database found corrupt in the middle is replaced and the build runs again, from scratch.
          const build = (): Promise<BuildReport> => this.buildLocked(sets, onEvent, request, signal, reaped === 0 && !recovered);
          return await this.session.recoveringDatabase(build, () => ((recovered = true), this.reloadFor('the state database was replaced')));
        } finally {
          // Held while the session tidies after the answer (the store copies outputs of the build
          // folder, compile_commands.json is written): no one-shot build may change them meanwhile.
          released = this.lockReleased = this.session.idle().finally(() => lock.release());
        }
      } finally {
        void released.finally(() => this.underway--);
      }
    };
    return this.turns.take(run, control.signal, () => control.onWait?.(this.session.lockHolder()));
  }

  /** A build under the lock. `mayTrustPlan`: no command left running by a dead osvd was killed just now. */
  private async buildLocked(sets: readonly string[], onEvent: ((e: ProgressEvent) => void) | undefined, request: BuildRequest, signal: AbortSignal, mayTrustPlan: boolean): Promise<BuildReport> {
    const started = performance.now();
    this.gc.putOff();
    const live = sets.length === 0;
    // With a healthy watcher the live plan is current for the watched tree: check only the files it
    // cannot see, and let the builder skip what the plan knows is up to date. Otherwise (other knobs,
    // no watcher, commands of a dead osvd killed just now whose writes may not have been reported
    // yet), look at every file afresh and decide every action.
    const trustPlan = live && mayTrustPlan && (await this.view.isCurrent());
    // A reload the watcher's events began (a makefile or the config changed) is waited for: until it
    // ends, the live graph and its plan are the old makefiles' (a built tree was "up to date" at once).
    await this.reloads.settled();
    // The makefiles as they are now could not be imported: import again (they may be mended by now),
    // and fail with make's words if they are not, rather than build the last good import's graph.
    if (live && this.failedReload) await this.reloadFor(`the last import failed: ${this.importFailure}`);
    if (trustPlan) {
      const changed = this.session.files.changedSince(this.blindSpots.take(this.livePlan));
      // A compiler's file changed (no watcher sees /usr): import again, as for an edited makefile.
      const makefiles = changed.filter((p) => this.current.makefiles.includes(p));
      if (makefiles.length) {
        this.session.dropGraphs();
        await this.reloadFor(`a compiler's file changed: ${makefiles[0]}`);
      } else if (changed.length) this.livePlan.update(changed);
    } else {
      this.session.files.invalidateAll();
    }
    const loaded = live ? this.current : await this.session.graph(this.session.project(sets));
    const targets = request.targets?.length ? resolveTargets(this.session, loaded, request.targets, request.cwd ?? loaded.project.root) : undefined;
    const scope = targets ? loaded.graph.withUpstream(targets) : undefined;
    if (trustPlan && this.livePlan.staleIn(scope) === 0) {
      return buildReport(recordUpToDate(this.session, loaded, performance.now() - started, request.jobs ?? loaded.project.jobs, scope), loaded, 'daemon');
    }
    // A copy of the plan's dirty set: the plan changes as files do, the build looks at these.
    const decided = new Set(this.livePlan.dirtyActions());
    this.changesDuringBuild = new Set();
    const plan = this.livePlan;
    let reimported = false;
    const choices: BuildChoices = { targets, jobs: request.jobs, failureLimit: request.failureLimit, colour: request.colour, signal };
    const building = (this.building = this.session.tracker(loaded, choices, trustPlan ? decided : undefined));
    try {
      const result = await this.session.build(loaded, onEvent, BUILD_NICENESS, trustPlan ? decided : undefined, { ...choices, tracker: building });
      if (result.reloaded) reimported = true;
      return buildReport(result, result.reloaded ?? loaded, 'daemon');
    } finally {
      this.building = null;
      const changed = [...this.changesDuringBuild];
      // A build that imported again (it rewrote a file make reads while parsing) has a new graph.
      if (trustPlan && this.livePlan === plan && !reimported) {
        // Only the actions the builder decided can have changed: refresh those, not the whole plan.
        this.blindSpots.retry();
        this.livePlan.refresh(decided);
        this.session.files.flush();
        this.session.traces.compact();
      } else {
        // Until the new plan is in place, status shows the last one: it says so, and why.
        const why = !live ? `a build for other knobs (--set ${sets.join(' --set ')}) rewrote outputs these share` : reimported ? 'the build imported the makefiles again' : 'the build looked at every file';
        await this.reloadFor(why, false);
      }
      // A build leaves much garbage.
      this.gc.soon();
      if (changed.length) this.log.info({ changed: changed.length }, 'files changed during the build');
      this.autoBuilds.schedule();
    }
  }

  /**
   * What a build would do now (`osvd build -n`), runs nothing and records nothing. The live plan
   * answers when it can be trusted, as for a build; otherwise every file is looked at afresh.
   */
  async dryRun(sets: readonly string[], request: BuildRequest): Promise<DryRunReport> {
    await this.turns.idle();
    const live = sets.length === 0;
    const loaded = live ? this.current : await this.session.graph(this.session.project(sets));
    const targets = request.targets?.length ? resolveTargets(this.session, loaded, request.targets, request.cwd ?? loaded.project.root) : undefined;
    const scope = targets ? loaded.graph.withUpstream(targets) : new Set(loaded.graph.actions.keys());
    const trustPlan = live && (await this.view.isCurrent());
    if (!trustPlan) {
      this.session.files.invalidateAll();
      return dryRunReport(loaded, this.session.plan(loaded, scope, scope), 'daemon');
    }
    const changed = this.session.files.changedSince(this.blindSpots.take(this.livePlan));
    if (changed.length) this.livePlan.update(changed);
    return dryRunReport(loaded, this.livePlan.explained(scope), 'daemon');
  }

  /** The build in progress, if any. */
  progress(): BuildProgress | null {
    return this.building?.progress() ?? null;
  }

  /** Stop watching and building: no new build starts, the one in progress is stopped (its commands killed). */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort(new BuildInterruptedError('the daemon is stopping: its build was interrupted'));
    this.autoBuilds.stop();
    clearTimeout(this.outputsTimer);
    this.gc.putOff();
    await this.view.close();
    this.blindSpots.close();
    await this.turns.idle();
    await this.lockReleased;
  }
}

/** Commands of daemon builds run at a slightly lower priority, so requests are answered at once. */
const BUILD_NICENESS = 5;
/** Output events outside a build are looked at together, this long after the first. */
const OUTPUTS_SETTLE_MS = 100;
