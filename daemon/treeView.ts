import type { FileState } from '../cache/fileState.js';
import { watcherChoice, type ChangeSource, type ChangeSourceOptions, type WatcherChoice, type WatcherHealth } from './changeSource.js';
import { InotifyQueue } from './inotifyQueue.js';
import type { Logger } from './log.js';
import { openChangeSource } from './openChangeSource.js';
import { changedPaths } from './trackedPaths.js';
import { WatchmanSource } from './watchmanSource.js';

export interface TreeViewOptions {
  root: string;
  /** Folders no backend reports (the state folder, .git, ...). */
  ignore: readonly string[];
  /** The build folder: watchman reports it, the folder watcher leaves it out (outputs are watched apart). */
  outputs: string;
  watcher: WatcherChoice | undefined;
  /** Interval of the stat scans when watching fails. */
  pollMs: number;
  files: FileState;
  log: Logger;
  /** Every path the live plan depends on, now (see trackedPaths.ts). */
  tracked: () => Iterable<string>;
  /** Told when the source reports a change in the build folder (kept for takeOutputChanges). */
  onOutputChanges?: () => void;
  /** Take changed paths into the plan (a re-import when a makefile or the config changed). */
  onChanges: (paths: string[]) => Promise<void>;
}

/**
 * How the daemon knows the tree as it is: a change source (watchman or the folder watcher) whose
 * events keep the plan current, and the check that stands in for what the source cannot vouch for:
 * a stat of every tracked path against what the daemon saw last (the recrawl). It runs before a
 * build whenever the source does not vouch for its view (always, for the folder watcher), at start
 * (edits between the plan and the watch), and at once when events may have been lost (an overflowed
 * inotify queue, watchman starting afresh): until it ends, `verifying` says why, and status shows it
 * instead of a plan that may have missed edits. When watching fails, periodic stat scans.
 */
/** Past this many tracked paths, status advises watchman (the folder watcher checks them before every build). */
const MANY_TRACKED = 100_000;
/**
 * After watchman failed (its server restarted or upgraded, the watch deleted), it is asked again after
 * these waits, the last one repeated: connecting runs `watchman get-sockname`, which starts the user's
 * server when none runs, as any watchman client does.
 */
const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export class TreeView {
  private source: ChangeSource | undefined;
  /** Counts the events of this process's fs.watch calls (tree and outputs): an overflow shows as a burst. */
  readonly inotify: InotifyQueue;
  private lostEvents: string | null = null;
  private verifyRun: Promise<void> | undefined;
  /** Checks asked for and checks done: a check asked for during one in progress gets a pass of its own. */
  private verifyAsked = 0;
  private verifyDone = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnects = 0;
  private sourceOptions: ChangeSourceOptions | undefined;
  private closed = false;
  /** The source reports every change since before the first look at the tree (see mark): the first check skips what was looked at. */
  private marked = false;
  private healthNow: WatcherHealth = { mode: 'off', healthy: false, ready: false };
  /** Paths in the build folder the source reported since the last build (see takeOutputChanges). */
  private outputChanges = new Set<string>();

  constructor(private readonly options: TreeViewOptions) {
    // Made before the first watch: the queue's length is read when the process's inotify instance is.
    this.inotify = new InotifyQueue((events, capacity) => this.eventsLost(`${events} or more file events arrived at once, half of what the inotify queue holds (${capacity}): some may have been dropped`));
  }

  get health(): WatcherHealth {
    return this.healthNow;
  }

  /** Why the plan may miss changes, while every tracked path is being checked; null when it is current. */
  get verifying(): string | null {
    return this.lostEvents;
  }

  /** Whether the source reports changes in the build folder (watchman); else outputs are watched apart. */
  get seesOutputs(): boolean {
    return this.source?.seesOutputs ?? false;
  }

  /** Pick the backend (before the graph loads: where outputs are watched depends on it). */
  async open(): Promise<void> {
    const { log } = this.options;
    this.sourceOptions = {
      root: this.options.root,
      ignore: this.options.ignore,
      outputs: this.options.outputs,
      onBatch: (paths) => {
        // The build folder's changes are mostly the daemon's own writes: kept for the next build to
        // check by stat (as the output watcher's notes), not re-decided one batch at a time.
        const prefix = this.options.outputs + '/';
        const tree = paths.filter((p) => !p.startsWith(prefix));
        const before = this.outputChanges.size;
        for (const p of paths) if (p.startsWith(prefix)) this.outputChanges.add(p);
        if (this.outputChanges.size > before) this.options.onOutputChanges?.();
        if (tree.length) void this.options.onChanges(tree);
      },
      onHealth: (h) => {
        log[h.healthy ? 'info' : 'warn']({ watcher: h }, 'watcher health changed');
        if (h.mode !== 'polling') return;
        this.startPolling();
        if (h.backend === 'watchman') this.reconnectLater();
      },
      onLost: (why) => this.eventsLost(why),
    };
    this.source = await openChangeSource(watcherChoice(this.options.watcher), this.sourceOptions, this.inotify, log);
    this.healthNow = this.source.health;
  }

  /**
   * watchman failed: scan by stat meanwhile, and ask it again, later and later. Once it watches the
   * tree again it takes over, and every tracked path is checked once (edits made in between are in
   * no event).
   */
  private reconnectLater(): void {
    if (this.closed || this.reconnectTimer) return;
    const wait = RECONNECT_MS[Math.min(this.reconnects++, RECONNECT_MS.length - 1)]!;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, wait);
    this.reconnectTimer.unref();
  }

  private async reconnect(): Promise<void> {
    let next: WatchmanSource;
    try {
      next = await WatchmanSource.connect(this.sourceOptions!);
    } catch {
      this.reconnectLater();
      return;
    }
    if (!this.closed) await next.start();
    if (this.closed || next.health.mode !== 'events') {
      // Not watching (it degraded in start, and asked for the next try itself), or the daemon stops.
      await next.close();
      return;
    }
    const old = this.source;
    this.source = next;
    this.healthNow = next.health;
    this.reconnects = 0;
    this.stopPolling();
    await old?.close();
    this.options.log.info('watchman watches the tree again');
    this.eventsLost('watchman answers again after it failed: every tracked file is checked');
  }

  /**
   * Before the daemon first looks at the tree: have the source report every change from now on, when
   * it can (watchman). True when it will; what is looked at after this needs no check by stat then.
   */
  async mark(): Promise<boolean> {
    this.marked = (await this.source?.mark?.()) ?? false;
    return this.marked;
  }

  /**
   * Watch the tree, then check every tracked path once: edits made before the watch are in no event.
   * After a mark, only the paths not looked at since are checked: the source reports changes to the others.
   */
  async start(): Promise<void> {
    const started = performance.now();
    await this.source?.start();
    this.options.log.info({ backend: this.source?.backend, ms: Math.round(performance.now() - started), sinceMark: this.marked }, 'watching the tree');
    if (!this.marked || this.healthNow.mode !== 'events' || !this.healthNow.healthy) this.marked = false;
    await this.verify();
  }

  /** Paths in the build folder the source reported since the last call (watchman; the folder watcher reports none). */
  takeOutputChanges(): string[] {
    const out = [...this.outputChanges];
    this.outputChanges = new Set();
    return out;
  }

  /** Folders the source leaves out: watchman sees build/ (less the state folder), the folder watcher does not. */
  sourceIgnores(): readonly string[] {
    return this.seesOutputs ? this.options.ignore : [this.options.outputs, ...this.options.ignore];
  }

  /**
   * Whether a live build may trust the plan: the source delivers what came before the build, and
   * what it cannot vouch for is checked by stat first. False when watching does not work.
   */
  async isCurrent(): Promise<boolean> {
    const source = this.source;
    if (!source || this.healthNow.mode !== 'events' || !this.healthNow.healthy) return false;
    const vouched = await source.settle();
    if (!vouched || this.lostEvents !== null) await this.verify();
    return this.lostEvents === null;
  }

  /** Events may have been lost: say so until every tracked path has been checked. */
  eventsLost(why: string): void {
    this.options.log.warn({ why }, 'file events may have been lost: checking every tracked file');
    this.lostEvents = why;
    // Every tracked file, also those looked at since a mark: the source may not report their changes.
    this.marked = false;
    void this.verify();
  }

  /** Stat every tracked path and take the changed ones in. Resolves once a pass begun after the call has ended. */
  verify(): Promise<void> {
    this.verifyAsked++;
    this.verifyRun ??= this.verifyPasses();
    return this.verifyRun;
  }

  private async verifyPasses(): Promise<void> {
    const { files, log } = this.options;
    try {
      while (this.verifyDone < this.verifyAsked && !this.closed) {
        const asked = this.verifyAsked;
        const started = performance.now();
        const tracked = this.options.tracked();
        const sinceMark = this.marked;
        this.marked = false;
        const { changed, checked } = await changedPaths(files, sinceMark ? unlooked(files, tracked) : tracked);
        if (changed.length) await this.options.onChanges(changed);
        const ms = Math.round(performance.now() - started);
        // After a mark, only what the first plan did not look at (watchman reports changes to the rest).
        log.info({ checked, changed: changed.length, ms }, sinceMark ? 'checked the tracked files not looked at since the mark' : 'checked every tracked file');
        this.adviseWatchman(checked, ms);
        this.verifyDone = asked;
      }
      this.lostEvents = null;
    } catch (err) {
      log.error({ err }, 'could not check the tracked files');
    } finally {
      this.verifyRun = undefined;
    }
  }

  /**
   * The folder watcher's builds check every tracked path: at 50,000 TUs (270,000 paths) that is
   * seconds a build, which watchman spares. Say so in status, once.
   */
  private adviseWatchman(checked: number, ms: number): void {
    if (this.source?.backend !== 'folders' || checked < MANY_TRACKED || this.healthNow.problem) return;
    this.healthNow.problem = `each build first checks ${checked} tracked files by stat (${ms} ms here): watchman would spare it`;
    this.healthNow.fix = "install watchman (apt-get install watchman); daemon.watcher 'auto' takes it, then osvd stop && osvd start";
  }

  /**
   * Without a working watcher: re-stat every tracked path, periodically. A build then looks at every
   * file afresh (see LiveGraph.build), so the scan only keeps the plan and auto-build current.
   */
  private startPolling(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => {
      const { files } = this.options;
      const paths = [...this.options.tracked()];
      // changedSince counts a path not looked at yet as changed; the scan takes its state now as the
      // starting point instead (nothing else hashes osv.config.ts, for one).
      for (const p of paths) files.hash(p);
      const changed = files.changedSince(paths);
      if (changed.length) void this.options.onChanges(changed);
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.source?.close();
    this.inotify.close();
  }
}

/** The paths the file state has not looked at (a first check after a mark need stat only these). */
function* unlooked(files: FileState, paths: Iterable<string>): Generator<string> {
  for (const p of paths) if (!files.looked(p)) yield p;
}
