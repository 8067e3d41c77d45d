import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isAlive } from '../base/process.js';
import { sweepScratch } from './scratch.js';

/**
 * One build per tree at a time, whichever osvd process runs it (one-shot commands, the daemon): two
 * builds in one build folder overwrite each other's objects and record what the other wrote.
 *
 * The lock is an OS lock (SQLite's exclusive lock on `build.lock`, a POSIX record lock), so it dies
 * with its holder: a killed osvd leaves no stale lock to detect and break, and no two processes can
 * both decide that a lock is stale and take it. Who holds it (pid, command, since when) is written
 * next to it, for the message of whoever waits.
 */
export interface LockHolder {
  readonly pid: number;
  readonly command: string;
  /** When the holder took the lock (ms since the epoch). */
  readonly since: number;
}

const LOCK_FILE = 'build.lock';
const HOLDER_FILE = 'build.lock.json';
const RETRY_MS = 100;

export class BuildLock {
  private constructor(private readonly db: Database.Database, private readonly holderFile: string) {}

  /**
   * Take the tree's build lock, waiting while another process holds it. `onWait` is told who holds
   * it (again when the holder changes); an aborted `signal` stops waiting with its reason.
   */
  static async acquire(stateDir: string, command: string, onWait?: (holder: LockHolder | undefined) => void, signal?: AbortSignal): Promise<BuildLock> {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, LOCK_FILE);
    const holderFile = path.join(stateDir, HOLDER_FILE);
    let told: string | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const db = tryLock(file);
      if (db) {
        const me: LockHolder = { pid: process.pid, command, since: Date.now() };
        const tmp = `${holderFile}.${process.pid}`;
        fs.writeFileSync(tmp, JSON.stringify(me), { mode: 0o600 });
        fs.renameSync(tmp, holderFile);
        return new BuildLock(db, holderFile);
      }
      const named = readHolder(holderFile);
      // The file may still name a holder that died (or not yet the one that just took the lock).
      const holder = named && isAlive(named.pid) ? named : undefined;
      const key = holder ? `${holder.pid}:${holder.since}` : '?';
      if (key !== told) {
        told = key;
        onWait?.(holder);
      }
      await sleep(RETRY_MS, signal);
    }
  }

  /** Who holds the lock now, if anyone does (a holder file left by a dead process is not a holder). */
  static holder(stateDir: string): LockHolder | undefined {
    const holder = readHolder(path.join(stateDir, HOLDER_FILE));
    return holder && isAlive(holder.pid) ? holder : undefined;
  }

  release(): void {
    if (!this.db.open) return;
    if (readHolder(this.holderFile)?.pid === process.pid) fs.rmSync(this.holderFile, { force: true });
    this.db.close();
  }
}

/**
 * Take the tree's build lock, then kill what osvd processes that are gone left running (they may have
 * died while we waited), before anything in the build folder is trusted. `reaped`: how many such
 * process groups there were (outputs may have changed under whoever looked before).
 */
export async function lockTree(stateDir: string, command: string, onWait?: (holder: LockHolder | undefined) => void, signal?: AbortSignal): Promise<{ lock: BuildLock; reaped: number }> {
  const lock = await BuildLock.acquire(stateDir, command, onWait, signal);
  try {
    return { lock, reaped: sweepScratch(stateDir) };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** The lock if it is free now, else undefined. The file is opened afresh each time (it may have been removed and made again). */
function tryLock(file: string): Database.Database | undefined {
  const db = new Database(file, { timeout: 0 });
  try {
    // A rollback journal (not WAL): BEGIN EXCLUSIVE then takes the file's exclusive lock at once.
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') return undefined;
    throw err;
  }
  // Removed and made again while we opened it (`osvd clean --all`): that lock is not the tree's.
  if (!fs.existsSync(file)) {
    db.close();
    return undefined;
  }
  return db;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.command === 'string' && typeof h.since === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
