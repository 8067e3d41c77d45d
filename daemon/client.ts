import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OsvdError } from '../graph/errors.js';
import { nameHash } from '../graph/nameHash.js';
import { readLines, send, type ErrorBody } from './ipc.js';

/** What a running daemon leaves in the state folder so that clients find it. */
export interface DaemonFile {
  pid: number;
  socket: string;
  root: string;
  startedAt: number;
}

export function daemonInfoPath(stateDir: string): string {
  return path.join(stateDir, 'daemon.json');
}

/** The socket lives in the state folder unless that path is too long for a Unix socket (108 bytes). */
export function socketPathFor(stateDir: string): string {
  const p = path.join(stateDir, 'osvd.sock');
  if (Buffer.byteLength(p) < 100) return p;
  return path.join(os.tmpdir(), `osvd-${nameHash(stateDir)}.sock`);
}

export function readDaemonFile(stateDir: string): DaemonFile | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(daemonInfoPath(stateDir), 'utf8')) as DaemonFile;
    return typeof info.pid === 'number' && typeof info.socket === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed daemon nobody has reaped yet is a zombie: it exists, but it is not running.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Remove what a crashed daemon left behind (its pid is gone). */
export function removeStale(stateDir: string, info: DaemonFile | undefined): void {
  if (info && isAlive(info.pid)) return;
  fs.rmSync(daemonInfoPath(stateDir), { force: true });
  fs.rmSync(info?.socket ?? socketPathFor(stateDir), { force: true });
}

export class DaemonError extends OsvdError {
  constructor(body: ErrorBody) {
    super(body.code, body.message, { file: body.file, field: body.field, hint: body.hint });
  }
}

export class DaemonClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (e: unknown) => void }>();

  private constructor(private readonly socket: net.Socket, readonly info: DaemonFile) {
    readLines(
      socket,
      (msg) => {
        const m = msg as { id: number; result?: unknown; error?: ErrorBody; event?: unknown };
        const w = this.waiting.get(m.id);
        if (!w) return;
        if ('event' in m) w.onEvent?.(m.event);
        else {
          this.waiting.delete(m.id);
          if (m.error) w.reject(new DaemonError(m.error));
          else w.resolve(m.result);
        }
      },
      () => undefined,
    );
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new OsvdError('DAEMON_GONE', 'the daemon closed the connection before answering'));
      this.waiting.clear();
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
    return socket ? new DaemonClient(socket, info) : undefined;
  }

  request<T>(method: string, params: Record<string, unknown> = {}, onEvent?: (e: unknown) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
      send(this.socket, { id, method, params });
    });
  }

  close(): void {
    this.socket.end();
  }
}
