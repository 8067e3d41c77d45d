import net from 'node:net';
import { OsvdError } from '../base/errors.js';
import { daemonGoneError } from './daemonGone.js';
import { readLines, send, type ErrorBody } from './ipc.js';
import { isAlive, isStopped } from '../base/process.js';
import { readDaemonFile, removeStale, type DaemonFile } from './locate.js';

export class DaemonError extends OsvdError {
  constructor(body: ErrorBody) {
    super(body.code, body.message, { file: body.file, field: body.field, hint: body.hint });
  }
}

/** A daemon silent this long while a request waits is looked at: stopped, it cannot answer. */
const STOPPED_AFTER_MS = 3000;
const LOOK_EVERY_MS = 1000;

export class DaemonClient {
  private nextId = 1;
  private lastHeard = Date.now();
  private lookTimer: NodeJS.Timeout | undefined;
  /** Told what the daemon is doing while a request waits for it to start (any request's). */
  onStarting: ((what: string) => void) | undefined;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (e: unknown) => void }>();

  private constructor(
    private readonly socket: net.Socket,
    readonly info: DaemonFile,
    stateDir: string,
  ) {
    readLines(
      socket,
      (msg) => {
        const m = msg as { id: number; result?: unknown; error?: ErrorBody; event?: unknown };
        this.lastHeard = Date.now();
        const w = this.waiting.get(m.id);
        if (!w) return;
        if ('event' in m) {
          const e = m.event as { type?: string; starting?: unknown };
          if (e?.type === 'waiting' && typeof e.starting === 'string') this.onStarting?.(e.starting);
          else w.onEvent?.(m.event);
        }
        else {
          this.waiting.delete(m.id);
          if (this.waiting.size === 0) this.stopLooking();
          if (m.error) w.reject(new DaemonError(m.error));
          else w.resolve(m.result);
        }
      },
      () => undefined,
    );
    socket.on('close', () => {
      this.stopLooking();
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      if (waiting.length) void daemonGoneError(info.pid, stateDir).then((err) => waiting.forEach((w) => w.reject(err)));
    });
    socket.on('error', () => undefined);
  }

  /** Connect to the daemon of a state folder, or undefined when none runs (stale files are removed). */
  static async find(stateDir: string, timeoutMs = 2000): Promise<DaemonClient | undefined> {
    const info = readDaemonFile(stateDir);
    if (!info) return undefined;
    if (!isAlive(info.pid)) {
      removeStale(stateDir, info);
      return undefined;
    }
    const socket = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect(info.socket);
      const timer = setTimeout(() => {
        s.destroy();
        resolve(undefined);
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    return socket ? new DaemonClient(socket, info, stateDir) : undefined;
  }

  request<T>(method: string, params: Record<string, unknown> = {}, onEvent?: (e: unknown) => void): Promise<T> {
    return this.start<T>(method, params, onEvent).result;
  }

  /** A request and its id (a build can then be cancelled by id while its answer is awaited). */
  start<T>(method: string, params: Record<string, unknown> = {}, onEvent?: (e: unknown) => void): { id: number; result: Promise<T> } {
    const id = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
      send(this.socket, { id, method, params });
    });
    if (this.waiting.size === 1) this.lastHeard = Date.now();
    this.lookTimer ??= setInterval(() => this.lookAtDaemon(), LOOK_EVERY_MS);
    return { id, result };
  }

  /**
   * A daemon stopped (SIGSTOP, Ctrl-Z in the terminal that runs `osvd start --foreground`, a
   * debugger) answers nothing until it is continued: every request waiting fails, saying so, rather
   * than hang. A daemon that runs may be silent for long (a build without progress events): it is
   * waited for.
   */
  private lookAtDaemon(): void {
    if (Date.now() - this.lastHeard < STOPPED_AFTER_MS || !isStopped(this.info.pid)) return;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    this.stopLooking();
    this.socket.destroy();
    const err = new OsvdError('DAEMON_STOPPED', `the daemon (pid ${this.info.pid}) is stopped (SIGSTOP, Ctrl-Z or a debugger) and cannot answer`, {
      hint: `kill -CONT ${this.info.pid} lets it go on; kill ${this.info.pid} ends it (osvd start starts another)`,
    });
    for (const w of waiting) w.reject(err);
  }

  private stopLooking(): void {
    clearInterval(this.lookTimer);
    this.lookTimer = undefined;
  }

  close(): void {
    this.stopLooking();
    this.socket.end();
  }
}
