import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { BuildEvent } from '../graph/builder.js';
import { isOsvdError, OsvdError } from '../base/errors.js';
import { isAlive } from '../base/process.js';
import { LivePlan } from '../graph/plan.js';
import type { ProjectOptions } from '../osv/project.js';
import { daemonInfoPath, readDaemonFile, socketPathFor, type DaemonFile } from './locate.js';
import { MAX_REQUEST, readLines, send, type ErrorBody, type Request } from './ipc.js';
import type { Logger } from './log.js';
import { buildReport, statusReport, whyReport, type BuildProgress, type BuildReport, type DaemonInfo } from './answers.js';
import { Session, type LoadedGraph } from './session.js';
import { OutputWatcher } from './outputWatcher.js';
import { TreeWatcher, type WatcherHealth } from './watcher.js';

/**
 * The long-running daemon: one per tree. Its one state object holds the session (database, store),
 * the graph for the live knobs with a plan kept current by the file watcher, and the build in progress.
 * Requests are answered from memory; builds run one at a time.
 */
export class Daemon {
  private session!: Session;
  private loaded!: LoadedGraph;
  private plan!: LivePlan;
  private readonly server = net.createServer((socket) => this.serve(socket));
  private watcher: TreeWatcher | undefined;
  private outputWatcher: OutputWatcher | undefined;
  private health: WatcherHealth = { mode: 'off', healthy: false, ready: false };
  private building: (BuildProgress & { startedAt: number; estimateMs: number }) | null = null;
  private buildChain: Promise<unknown> = Promise.resolve();
  private autoBuildTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lastUpdateMs = 0;
  private readonly startedAt = Date.now();
  private stopping = false;
  private socketPath = '';
  private stateDir = '';
  private readonly clients = new Set<net.Socket>();
  private changesDuringBuild = new Set<string>();
  private loading: Promise<void> | undefined;

  constructor(private readonly options: ProjectOptions & { autoBuild?: boolean }, private readonly log: Logger) {}

  /** Open the tree, claim its daemon slot, listen, load the graph and start watching. */
  static async start(options: ProjectOptions & { autoBuild?: boolean }): Promise<Daemon> {
    const session = await Session.open(options, true);
    const daemon = new Daemon(options, session.log);
    daemon.session = session;
    await daemon.listen();
    try {
      // Requests that need the graph wait for it (loading a large tree takes a while).
      daemon.loading = (async () => {
        await daemon.reload();
        await daemon.startWatcher();
      })();
      await daemon.loading;
      daemon.loading = undefined;
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    daemon.log.info({ root: session.base.root, actions: daemon.loaded.graph.actions.size }, 'daemon ready');
    return daemon;
  }

  get pid(): number {
    return process.pid;
  }

  private get autoBuild(): boolean {
    return this.options.autoBuild ?? this.session.base.config.daemon?.autoBuild ?? false;
  }

  private async listen(): Promise<void> {
    const stateDir = this.session.base.stateDir;
    this.stateDir = stateDir;
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(stateDir, 0o700);
    this.socketPath = socketPathFor(stateDir);
    privateFolder(path.dirname(this.socketPath));
    this.claim();
    fs.rmSync(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o600);
  }

  /** One daemon per tree: daemon.json is created exclusively; one left by a dead daemon is taken over. */
  private claim(): void {
    const file = daemonInfoPath(this.stateDir);
    const info: DaemonFile = { pid: process.pid, socket: this.socketPath, root: this.session.base.root, startedAt: this.startedAt };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(info), { mode: 0o600, flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const existing = readDaemonFile(this.stateDir);
        if (existing && isAlive(existing.pid)) {
          throw new OsvdError('DAEMON_RUNNING', `a daemon already runs for this tree (pid ${existing.pid})`, { hint: 'osvd stop, or talk to it: osvd status' });
        }
        this.log.warn({ stale: existing }, 'replacing the files of a daemon that is gone');
        fs.rmSync(file, { force: true });
        if (existing?.socket) fs.rmSync(existing.socket, { force: true });
      }
    }
    throw new OsvdError('DAEMON_RUNNING', 'another daemon is starting for this tree');
  }

  /** (Re)load the graph for the live knobs and compute its plan from scratch. */
  private async reload(): Promise<void> {
    this.session.trimMemory();
    this.loaded = await this.session.graph(this.session.project());
    this.watchOutputs();
    this.plan = new LivePlan(this.loaded.graph, this.session.services, this.loaded.project.knobs, this.unwatchedTest());
    this.session.files.flush();
    this.session.traces.compact();
    // An import leaves its parse behind as garbage (hundreds of MB at 50,000 TUs): collect it now.
    (globalThis as { gc?: () => void }).gc?.();
  }

  /** Watch the folders of the graph's outputs (before the plan looks at them, so no change is missed). */
  private watchOutputs(): void {
    this.outputWatcher ??= new OutputWatcher(this.session.base.root);
    const outputs: string[] = [];
    for (const a of this.loaded.graph.actions.values()) for (const o of a.outputs) outputs.push(o);
    this.outputWatcher.track(outputs);
  }

  private async startWatcher(): Promise<void> {
    const base = this.session.base;
    const ignore = ['build', '.git', 'node_modules', path.relative(base.root, base.stateDir), ...(base.config.daemon?.ignore ?? [])];
    this.watcher = new TreeWatcher({
      root: base.root,
      ignore,
      onBatch: (paths) => void this.onChanges(paths),
      onHealth: (h) => {
        this.log[h.healthy ? 'info' : 'warn']({ watcher: h }, 'watcher health changed');
        if (h.mode === 'polling') this.startPolling();
      },
    });
    this.health = this.watcher.health;
    const started = performance.now();
    await this.watcher.start();
    this.log.info({ folders: this.watcher.watchedFolders, ms: Math.round(performance.now() - started) }, 'watching the tree');
  }

  /** Without a working watcher: re-stat every file the plan depends on, periodically. */
  private startPolling(): void {
    if (this.pollTimer) return;
    const every = this.session.base.config.daemon?.pollMs ?? 2000;
    this.pollTimer = setInterval(() => {
      const changed: string[] = [];
      const { files } = this.session;
      for (const p of this.trackedPaths()) {
        const before = files.hash(p);
        files.invalidate(p);
        if (files.hash(p) !== before) changed.push(p);
      }
      if (changed.length) void this.onChanges(changed);
    }, every);
    this.pollTimer.unref();
  }

  private trackedPaths(): Set<string> {
    const paths = new Set<string>([...this.loaded.makefiles]);
    if (this.session.base.configFile) paths.add(path.relative(this.session.base.root, this.session.base.configFile));
    for (const a of this.loaded.graph.actions.values()) {
      for (const p of a.inputs) if (!path.isAbsolute(p)) paths.add(p);
      for (const [p] of this.session.traces.lastRun(a.id)?.deps ?? []) if (!path.isAbsolute(p)) paths.add(p);
    }
    return paths;
  }

  /** A batch of changed paths: re-import when the config or a makefile changed, else update the plan. */
  private async onChanges(changes: string[]): Promise<void> {
    const started = performance.now();
    const base = this.session.base;
    const configRel = base.configFile ? path.relative(base.root, base.configFile) : undefined;
    const makefiles = new Set(this.loaded.makefiles);
    const paths = expandGoneFolders(changes, [this.plan.readPaths(), makefiles, configRel ? [configRel] : []]);
    for (const p of paths) this.session.files.invalidate(p);
    if (this.building) for (const p of paths) this.changesDuringBuild.add(p);
    try {
      if (configRel && paths.includes(configRel)) {
        this.log.info('osv.config.ts changed: reloading');
        await this.session.reloadBase(this.options);
        await this.reload();
      } else if (paths.some((p) => makefiles.has(p))) {
        this.log.info({ paths: paths.filter((p) => makefiles.has(p)) }, 'a makefile changed: re-importing');
        this.session.dropGraphs();
        await this.reload();
      } else {
        const n = this.plan.update(paths);
        this.session.files.flush();
        this.log.debug({ changed: paths.length, replanned: n }, 'plan updated');
      }
    } catch (err) {
      this.log.error({ err }, 'could not take changes into account');
    }
    this.lastUpdateMs = performance.now() - started;
    this.scheduleAutoBuild();
  }

  private scheduleAutoBuild(): void {
    if (!this.autoBuild || this.stopping) return;
    const dirty = this.plan.counts.run + this.plan.counts.restore + this.plan.counts.pending;
    if (dirty === 0) return;
    if (this.autoBuildTimer) clearTimeout(this.autoBuildTimer);
    this.autoBuildTimer = setTimeout(() => {
      this.autoBuildTimer = undefined;
      if (this.building) return; // the build in progress reschedules when it ends
      void this.build([], undefined).catch((err) => this.log.error({ err }, 'automatic build failed to start'));
    }, this.session.base.config.daemon?.quietMs ?? 300);
  }

  /**
   * Paths the tree watcher does not see but the plan depends on: outputs that may have changed (the
   * output watcher's notes) and what actions read outside the watched tree (host headers, ignored
   * folders).
   */
  private unwatchedPaths(): string[] {
    const paths = this.outputWatcher?.takeChanged() ?? [];
    for (const p of this.plan.unwatchedReadPaths()) paths.push(p);
    return paths;
  }

  /** Which paths the plan reads that neither watcher reports: outside the tree, or in an ignored folder, and no action's output. */
  private unwatchedTest(): (p: string) => boolean {
    const base = this.session.base;
    const ignored = ['build', '.git', 'node_modules', path.relative(base.root, base.stateDir), ...(base.config.daemon?.ignore ?? [])].map((i) => i + '/');
    const graph = this.loaded.graph;
    return (p) => (path.isAbsolute(p) || p.startsWith('..') || ignored.some((i) => p.startsWith(i))) && !graph.producerOf(p);
  }

  /** Builds run one at a time, in the order asked. */
  build(sets: readonly string[], onEvent: ((e: BuildEvent) => void) | undefined): Promise<BuildReport> {
    const run = async (): Promise<BuildReport> => {
      const started = performance.now();
      const live = sets.length === 0;
      const loaded = live ? this.loaded : await this.session.graph(this.session.project(sets));
      // With a healthy watcher the live plan is current for the watched tree: check only the files it
      // cannot see, and let the builder skip what the plan knows is up to date. Otherwise (other
      // knobs, no watcher), look at every file afresh and decide every action.
      const trustPlan = live && this.health.mode === 'events' && this.health.healthy && (await this.watcher!.sync());
      if (trustPlan) {
        const changed = this.session.files.changedSince(this.unwatchedPaths());
        if (changed.length) this.plan.update(changed);
        const { run: toRun, restore, pending } = this.plan.counts;
        if (toRun + restore + pending === 0) return this.upToDateReport(loaded, performance.now() - started);
      } else {
        this.session.files.invalidateAll();
      }
      const dirtyIds = [...this.plan.entries].filter(([, e]) => e.state !== 'upToDate').map(([id]) => id);
      const estimateMs = dirtyIds.reduce((sum, id) => sum + (this.session.traces.lastRun(id)?.durationMs ?? 500), 0) / loaded.project.jobs;
      this.building = { finished: 0, total: loaded.graph.actions.size, running: [], ran: 0, restored: 0, elapsedMs: 0, etaMs: null, startedAt: Date.now(), estimateMs };
      this.changesDuringBuild = new Set();
      const plan = this.plan;
      const decided = new Set(dirtyIds);
      const knownUpToDate = (id: string): boolean => {
        if (plan.entries.get(id)?.state === 'upToDate') return true;
        decided.add(id);
        return false;
      };
      try {
        const result = await this.session.build(
          loaded,
          (e) => {
            this.track(e);
            onEvent?.(e);
          },
          BUILD_NICENESS,
          trustPlan ? knownUpToDate : undefined,
        );
        return buildReport(result, loaded, 'daemon');
      } finally {
        this.building = null;
        const changed = [...this.changesDuringBuild];
        if (trustPlan && this.plan === plan) {
          // Only the actions the builder decided can have changed: refresh those, not the whole plan.
          this.watchOutputs();
          this.plan.refresh(decided);
          this.session.files.flush();
          this.session.traces.compact();
        } else {
          await this.reload();
        }
        // A build leaves much garbage; collect it now, while the daemon is idle, rather than keep
        // the heap (and so the resident memory) at its high-water mark (needs --expose-gc).
        (globalThis as { gc?: () => void }).gc?.();
        if (changed.length) this.log.info({ changed: changed.length }, 'files changed during the build');
        this.scheduleAutoBuild();
      }
    };
    const next = this.buildChain.then(run, run);
    this.buildChain = next.catch(() => undefined);
    return next;
  }

  /** The report of a build that had nothing to do. */
  private upToDateReport(loaded: LoadedGraph, ms: number): BuildReport {
    const result = { ok: true, ran: [], restored: [], upToDate: loaded.graph.actions.size, failed: [], skipped: [], raced: [], racedBecause: {}, durationMs: ms };
    this.session.recordUpToDate(loaded, result.durationMs);
    return buildReport(result, loaded, 'daemon');
  }

  private track(e: BuildEvent): void {
    const b = this.building;
    if (!b) return;
    if (e.type === 'start') b.running.push(e.id);
    else {
      b.running = b.running.filter((id) => id !== e.id);
      b.finished = e.finished;
      if (e.state === 'ran' || e.state === 'failed') b.ran++;
      if (e.state === 'restored') b.restored++;
    }
  }

  private progress(): BuildProgress | null {
    const b = this.building;
    if (!b) return null;
    const elapsedMs = Date.now() - b.startedAt;
    return { finished: b.finished, total: b.total, running: [...b.running], ran: b.ran, restored: b.restored, elapsedMs, etaMs: Math.max(0, Math.round(b.estimateMs - elapsedMs)) };
  }

  private info(): DaemonInfo {
    return {
      running: true,
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      watcher: { mode: this.health.mode, healthy: this.health.healthy, problem: this.health.problem, fix: this.health.fix, lastEventAt: this.health.lastEventAt },
      autoBuild: this.autoBuild,
      lastUpdateMs: Math.round(this.lastUpdateMs * 100) / 100,
      memory: memoryMb(),
    };
  }

  private serve(socket: net.Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => undefined);
    readLines(
      socket,
      (msg) => void this.dispatch(socket, msg),
      (why, fatal) => {
        this.log.warn({ why }, 'bad request refused');
        send(socket, { id: 0, error: { code: 'BAD_REQUEST', message: `refused ${why}`, hint: fatal ? 'the connection is closed' : undefined } });
        // Too long to be a request: answer and hang up (a sender that does not stop is cut off).
        if (fatal) {
          socket.end();
          setTimeout(() => socket.destroy(), 5000).unref();
        }
      },
      MAX_REQUEST,
    );
  }

  private async dispatch(socket: net.Socket, msg: unknown): Promise<void> {
    const req = (msg !== null && typeof msg === 'object' ? msg : {}) as Partial<Request>;
    const id = typeof req.id === 'number' ? req.id : 0;
    if (typeof req.method !== 'string') {
      send(socket, { id, error: { code: 'BAD_REQUEST', message: 'a request needs a method' } });
      return;
    }
    const params = (req.params && typeof req.params === 'object' ? req.params : {}) as Record<string, unknown>;
    const sets = Array.isArray(params.sets) ? params.sets.filter((s): s is string => typeof s === 'string') : [];
    try {
      if (this.loading && req.method !== 'ping' && req.method !== 'stop') await this.loading;
      let result: unknown;
      switch (req.method) {
        case 'ping':
          result = { pid: process.pid, root: this.session.base.root };
          break;
        case 'status': {
          if (sets.length) {
            const loaded = await this.session.graph(this.session.project(sets));
            result = statusReport(this.session, loaded, this.session.plan(loaded), this.info(), this.progress());
          } else {
            result = statusReport(this.session, this.loaded, this.plan, this.info(), this.progress());
          }
          break;
        }
        case 'why': {
          const loaded = sets.length ? await this.session.graph(this.session.project(sets)) : this.loaded;
          result = whyReport(this.session, loaded, String(params.path ?? ''), typeof params.cwd === 'string' ? params.cwd : this.session.base.root);
          break;
        }
        case 'build':
          // Up-to-date actions are not sent one by one (10,000 messages for a one-TU rebuild at 10,000
          // TUs): the events of what runs carry the count of what finished.
          result = await this.build(
            sets,
            params.events
              ? (event) => {
                  if (event.type === 'done' && event.state === 'upToDate' && event.finished !== event.total) return;
                  send(socket, { id, event: { ...event, etaMs: this.progress()?.etaMs ?? null } });
                }
              : undefined,
          );
          break;
        case 'refresh':
          this.session.files.invalidateAll();
          await this.reload();
          result = { ok: true };
          break;
        case 'set': {
          const project = this.session.setKnobs(sets, Boolean(params.reset));
          await this.reload();
          this.scheduleAutoBuild();
          result = { knobs: project.knobs, liveKnobs: this.session.liveKnobs() };
          break;
        }
        case 'stop':
          send(socket, { id, result: { pid: process.pid } });
          setImmediate(() => void this.stop());
          return;
        default:
          throw new OsvdError('BAD_REQUEST', `unknown method '${req.method}'`);
      }
      send(socket, { id, result });
    } catch (err) {
      send(socket, { id, error: errorBody(err) });
      if (!isOsvdError(err)) this.log.error({ err }, 'request failed');
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.autoBuildTimer) clearTimeout(this.autoBuildTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.watcher?.close();
    this.outputWatcher?.close();
    await this.buildChain.catch(() => undefined);
    for (const c of this.clients) c.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const info = readDaemonFile(this.stateDir);
    if (info?.pid === process.pid) fs.rmSync(daemonInfoPath(this.stateDir), { force: true });
    fs.rmSync(this.socketPath, { force: true });
    this.session?.close();
    this.log.info('daemon stopped');
  }
}

/**
 * The socket's folder must be ours and closed to everyone else: the socket's own mode is not enough
 * on every system, and a folder someone else made in /tmp could be swapped under us.
 */
function privateFolder(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new OsvdError('SOCKET_FOLDER', `the daemon's socket folder ${dir} is not a folder owned by this user`, { file: dir, hint: 'remove it, or give the tree a shorter path' });
  }
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

/** Commands of daemon builds run at a slightly lower priority, so requests are answered at once. */
const BUILD_NICENESS = 5;

/**
 * The tree watcher reports a folder that went away (deleted, moved out) as `dir/`, without the files
 * that were in it: these are the known paths under such folders, in place of the folders.
 */
function expandGoneFolders(changes: string[], known: Iterable<string>[]): string[] {
  const gone = new Set(changes.filter((p) => p.endsWith('/')).map((p) => p.slice(0, -1)));
  if (gone.size === 0) return changes;
  const paths = new Set(changes.filter((p) => !p.endsWith('/')));
  for (const list of known) {
    for (const p of list) {
      for (let dir = path.posix.dirname(p); dir !== '.' && dir !== '/'; dir = path.posix.dirname(dir)) {
        if (gone.has(dir)) {
          paths.add(p);
          break;
        }
      }
    }
  }
  return [...paths];
}

function memoryMb(): NonNullable<DaemonInfo['memory']> {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external) };
}

function errorBody(err: unknown): ErrorBody {
  if (isOsvdError(err)) return { code: err.code, message: err.message, file: err.file, field: err.field, hint: err.hint };
  return { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) };
}
