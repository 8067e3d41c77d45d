import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nameHash } from '../base/nameHash.js';
import { isAlive } from '../base/process.js';

/** Finding a tree's daemon from its files alone (kept small: the `osvd status` fast path loads it). */

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

/** Where a daemon started in the background writes its stdout and stderr (Node's last words too). */
export function daemonOutPath(stateDir: string): string {
  return path.join(stateDir, 'daemon.out');
}

/**
 * The socket lives in the state folder unless that path is too long for a Unix socket (108 bytes);
 * then in a folder of the system's temporary folder that only this user may enter (see server.ts).
 */
export function socketPathFor(stateDir: string): string {
  const p = path.join(stateDir, 'osvd.sock');
  if (Buffer.byteLength(p) < 100) return p;
  return path.join(os.tmpdir(), `osvd-${process.getuid?.() ?? 'user'}`, `${nameHash(stateDir)}.sock`);
}

export function readDaemonFile(stateDir: string): DaemonFile | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(daemonInfoPath(stateDir), 'utf8')) as DaemonFile;
    return typeof info.pid === 'number' && typeof info.socket === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Remove what a crashed daemon left behind (its pid is gone). */
export function removeStale(stateDir: string, info: DaemonFile | undefined): void {
  if (info && isAlive(info.pid)) return;
  fs.rmSync(daemonInfoPath(stateDir), { force: true });
  fs.rmSync(info?.socket ?? socketPathFor(stateDir), { force: true });
}

