import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isOsvdError, OsvdError } from '../base/errors.js';
import { isAlive } from '../base/process.js';
import { statusReport, whyReport, type DaemonInfo } from './answers.js';
import { MAX_REQUEST, readLines, send, type ErrorBody, type Request } from './ipc.js';
import type { BuildRequest, ProgressEvent } from './buildChoices.js';
import { ClaimWatch } from './claimWatch.js';
import { ClientBuilds } from './clientBuilds.js';
import { environmentDiffersError, environmentDifferences, programsOf } from './clientEnv.js';
import { LiveGraph, type DaemonOptions } from './liveGraph.js';
import { daemonInfoPath, readDaemonFile, socketPathFor, type DaemonFile } from './locate.js';
import type { Logger } from './log.js';
import { Session } from './session.js';
import { mallocTuned } from './mallocTuning.js';
import { statsReport } from './stats.js';

/**
 * The long-running daemon, one per tree: it claims the tree's daemon slot, listens on its socket and
 * answers requests from the memory of its live graph (liveGraph.ts), which builds one at a time.
 */
export class Daemon {
  private readonly server = net.createServer((socket) => this.serve(socket));
  private readonly clients = new Set<net.Socket>();
  private readonly clientBuilds = new ClientBuilds();
  private readonly startedAt = Date.now();
  private readonly log: Logger;
  private stopping = false;
  private socketPath = '';
  private claimWatch: ClaimWatch | undefined;
  private stateDir = '';
  private loading: Promise<void> | undefined;
  private markStopped: () => void = () => undefined;
  /** Resolved once the daemon has stopped (whoever asked): its process then exits. */
  readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));

  private constructor(private readonly session: Session, private readonly live: LiveGraph) {
    this.log = session.log;
  }

  /** Open the tree, claim its daemon slot, listen, load the graph and start watching. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const session = await Session.open(options, true);
    const daemon = new Daemon(session, new LiveGraph(session, options));
    await daemon.listen();
    try {
      // Requests that need the graph wait for it (loading a large tree takes a while). A stop asked
      // meanwhile ends the daemon without waiting for the rest (its process exits once stopped).
      daemon.loading = daemon.live.start();
      daemon.loading.catch(() => undefined);
      await Promise.race([daemon.loading, daemon.stopped]);
      daemon.loading = undefined;
    } catch (err) {
      if (daemon.stopping) return daemon;
      await daemon.stop();
      throw err;
    }
    if (daemon.stopping) return daemon;
    daemon.log.info({ root: session.base.root, actions: daemon.live.loaded.graph.actions.size, malloc: mallocTuned() ?? 'as the environment says' }, 'daemon ready');
    return daemon;
  }

  get pid(): number {
    return process.pid;
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
    // Bound under a name of this process, then renamed into place: closing the server unlinks the
    // name it was bound to (libuv does), which must not be the socket path a newer daemon may hold by
    // then (see stop). The name is no longer than the socket's (sun_path has 108 bytes).
    const bound = path.join(path.dirname(this.socketPath), `.s${process.pid}`);
    fs.rmSync(bound, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(bound, () => resolve());
    });
    fs.chmodSync(bound, 0o600);
    fs.renameSync(bound, this.socketPath);
    this.claimWatch = new ClaimWatch([daemonInfoPath(stateDir), this.socketPath]);
    this.claimWatch.start((gone) => {
      this.log.warn({ gone }, "the daemon's files were removed or moved (rm -rf build, the tree moved): it stops");
      void this.stop();
    });
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

  private info(): DaemonInfo {
    const health = this.live.health;
    return {
      running: true,
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      watcher: { mode: health.mode, backend: health.backend, healthy: health.healthy, problem: health.problem, fix: health.fix, lastEventAt: health.lastEventAt },
      verifying: this.live.verifying,
      reimporting: this.live.reimporting,
      importFailure: this.live.importFailure,
      replanning: this.live.replanning,
      autoBuild: this.live.autoBuild,
      lastUpdateMs: Math.round(this.live.lastUpdateMs * 100) / 100,
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
    // Refused at once, not after the start a known method would wait for.
    if (!METHODS.has(req.method)) {
      send(socket, { id, error: { code: 'BAD_REQUEST', message: `unknown method '${req.method}'` } });
      return;
    }
    const params = (req.params && typeof req.params === 'object' ? req.params : {}) as Record<string, unknown>;
    const sets = Array.isArray(params.sets) ? params.sets.filter((s): s is string => typeof s === 'string') : [];
    try {
      if (this.loading && req.method !== 'ping' && req.method !== 'stop') await this.startedFor(socket, id);
      let result: unknown;
      switch (req.method) {
        case 'ping':
          result = { pid: process.pid, root: this.session.base.root };
          break;
        case 'status': {
          if (sets.length) {
            const loaded = await this.session.graph(this.session.project(sets));
            result = statusReport(this.session, loaded, this.session.plan(loaded), this.info(), this.live.progress());
          } else {
            result = statusReport(this.session, this.live.loaded, this.live.plan, this.info(), this.live.progress());
          }
          break;
        }
        case 'why': {
          const loaded = sets.length ? await this.session.graph(this.session.project(sets)) : this.live.loaded;
          result = whyReport(this.session, loaded, String(params.path ?? ''), typeof params.cwd === 'string' ? params.cwd : this.session.base.root);
          break;
        }
        case 'build': {
          this.refuseOtherEnvironment(params.env);
          if (params.detach === true) {
            // Not tied to this client: it goes on when the client goes away.
            void this.live.build(sets, undefined, { ...buildRequest(params), colour: false }).catch((err) => this.log.warn({ err }, 'a detached build did not complete'));
            result = { detached: true, pid: process.pid };
            break;
          }
          // Up-to-date actions are not sent one by one (10,000 messages for a one-TU rebuild at 10,000
          // TUs): the events of what runs carry the count of what finished.
          const onEvent = params.events
            ? (event: ProgressEvent): void => {
                if (event.type === 'done' && event.state === 'upToDate' && event.finished !== event.total) return;
                // The commands go along only when the client prints them (-v).
                send(socket, { id, event: event.type === 'start' && !params.verbose ? { ...event, commands: undefined } : event });
              }
            : undefined;
          result = await this.clientBuilds.run(socket, id, (signal) =>
            this.live.build(sets, onEvent, buildRequest(params), { signal, onWait: (holder) => send(socket, { id, event: { type: 'waiting', holder } }) }),
          );
          break;
        }
        case 'cancel':
          this.clientBuilds.cancel(socket, Number(params.build));
          result = { ok: true };
          break;
        case 'stats':
          if (params.zero === true) this.session.counters.zero();
          result = statsReport(this.session);
          break;
        case 'dryRun':
          result = await this.live.dryRun(sets, buildRequest(params));
          break;
        case 'refresh':
          await this.live.refresh();
          result = { ok: true };
          break;
        case 'set': {
          const project = await this.live.setKnobs(sets, Boolean(params.reset));
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
      // A database that fails in use is named; a corrupt one is replaced (and the graph reloaded).
      const failure = this.session.databaseFailure(err);
      if (failure?.corrupt && failure !== err) {
        this.session.replaceDatabase(failure);
        await this.live.refresh().catch((e: unknown) => this.log.error({ err: e }, 'reloading after a new database failed'));
      }
      send(socket, { id, error: errorBody(failure ?? err) });
      if (!isOsvdError(failure ?? err)) this.log.error({ err }, 'request failed');
    }
  }

  /** A build whose client's environment would build differently is refused (see clientEnv.ts); a client that sends none is not asked. */
  private refuseOtherEnvironment(env: unknown): void {
    if (env === null || typeof env !== 'object') return;
    const clientEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const base = this.session.base;
    const differences = environmentDifferences(base.baseEnv, clientEnv, programsOf(this.live.loaded.graph), base.root);
    if (differences.length === 0) return;
    this.log.info({ differences }, 'a build refused: its client would build differently');
    throw environmentDiffersError(differences, process.pid);
  }

  /**
   * Wait until the daemon has started, telling the client what it is doing (the client says so:
   * importing the makefiles of a large tree and deciding its plan takes seconds), and again when
   * that changes.
   */
  private async startedFor(socket: net.Socket, id: number): Promise<void> {
    let told: string | null = null;
    const tell = (): void => {
      const now = this.live.starting;
      // A new step is told; a count that moved within the same step is not.
      if (now === null || now.split(' (')[0] === told?.split(' (')[0]) return;
      told = now;
      send(socket, { id, event: { type: 'waiting', starting: now } });
    };
    tell();
    const timer = setInterval(tell, 250);
    try {
      await this.loading;
    } finally {
      clearInterval(timer);
    }
  }

  /** Stop: the build in progress is interrupted (its commands killed), clients are answered and let go. */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    await this.live.close();
    // What was written reaches the client, then the connection closes (a client that keeps its side
    // open would otherwise keep the daemon alive).
    for (const c of this.clients) c.end(() => c.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Only files that are still this daemon's: after rm -rf build, the same paths may be a newer daemon's.
    this.claimWatch?.stop();
    const info = readDaemonFile(this.stateDir);
    if (info?.pid === process.pid) fs.rmSync(daemonInfoPath(this.stateDir), { force: true });
    if (this.claimWatch?.owns(this.socketPath)) fs.rmSync(this.socketPath, { force: true });
    await this.session?.flushShared();
    try {
      this.session?.close();
    } catch (err) {
      // A full disk, say: what those writes held runs again next time.
      this.log.error({ err }, 'the last writes to the state database failed');
    }
    this.log.info('daemon stopped');
    this.markStopped();
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

function memoryMb(): NonNullable<DaemonInfo['memory']> {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external) };
}

/** The requests the daemon answers (see dispatch). */
const METHODS = new Set(['ping', 'status', 'why', 'build', 'cancel', 'stats', 'dryRun', 'refresh', 'set', 'stop']);

/** A build request's choices, as far as they are well formed (the client checked them). */
function buildRequest(params: Record<string, unknown>): BuildRequest {
  const whole = (v: unknown, min: number): number | undefined => (Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : undefined);
  return {
    targets: Array.isArray(params.targets) ? params.targets.filter((t): t is string => typeof t === 'string') : undefined,
    cwd: typeof params.cwd === 'string' ? params.cwd : undefined,
    jobs: whole(params.jobs, 1),
    failureLimit: whole(params.failureLimit, 0),
    colour: params.colour === true,
  };
}

function errorBody(err: unknown): ErrorBody {
  if (isOsvdError(err)) return { code: err.code, message: err.message, file: err.file, field: err.field, hint: err.hint };
  return { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) };
}
