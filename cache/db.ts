import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StateDatabaseError } from '../base/errors.js';
import { isAlive } from '../base/process.js';
import { CacheError } from './errors.js';

export type Db = Database.Database;

/** Bump when the schema changes incompatibly: an older database is moved aside and rebuilt. */
const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- What each file looked like when it was last hashed; a file is re-hashed only when its stat changed.
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns TEXT NOT NULL, ctime_ns TEXT NOT NULL,
  ino TEXT NOT NULL, hash TEXT NOT NULL, racy INTEGER NOT NULL DEFAULT 0
);
-- Verifying traces (ccache's manifests): pre-key -> discovered deps with hashes -> outputs.
CREATE TABLE IF NOT EXISTS traces (
  pre_key TEXT NOT NULL, key TEXT NOT NULL, deps TEXT NOT NULL, record TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (pre_key, key)
);
-- The last successful run of each action, to explain why it is dirty and to order by duration.
CREATE TABLE IF NOT EXISTS last_runs (
  action_id TEXT PRIMARY KEY, record TEXT NOT NULL, previous TEXT, duration_ms INTEGER NOT NULL, finished_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (action_id TEXT PRIMARY KEY, message TEXT NOT NULL, at INTEGER NOT NULL);
-- The content-addressed store's index: one row per blob, for the size cap and LRU eviction.
CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, last_used INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_lru ON blobs (last_used);
-- Build history.
CREATE TABLE IF NOT EXISTS builds (
  id INTEGER PRIMARY KEY AUTOINCREMENT, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
  ok INTEGER NOT NULL, summary TEXT NOT NULL
);
-- Running totals for osvd stats (ran, restored, failed by kind, evictions, since when).
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- Each recent build's timeline (every action that ran or was restored, with its times and job slot).
CREATE TABLE IF NOT EXISTS build_timelines (build_id INTEGER PRIMARY KEY, timeline TEXT NOT NULL);
-- Cached imports of the tree's Makefile, by the hash of everything that can change them.
CREATE TABLE IF NOT EXISTS imports (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

export interface OpenResult {
  readonly db: Db;
  /** Set when an unusable database was moved aside: where it went and why. */
  readonly recovered?: { readonly movedTo: string; readonly reason: string };
  /** Whether the database was checked (quick_check) as it was opened (see openChecked). */
  readonly checked: boolean;
}

/**
 * quick_check reads the whole database: 22 s at 50,000 TUs (749 MB) for every command that opened it.
 * It runs when a process that had the database open did not close it (killed, crashed: its marker
 * is left, see markOpen), and otherwise once a week.
 */
const CHECK_EVERY_MS = 7 * 24 * 3600 * 1000;

/**
 * Open (or create) the state database in WAL mode. A database that is corrupt, not a database, or
 * of an unknown schema is moved aside (never deleted) and a new one is created: the cost is a
 * rebuild, never a crash loop.
 */
export function openDatabase(file: string): OpenResult {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const unclean = takeLeftMarkers(file);
  try {
    return openChecked(file, unclean);
  } catch (err) {
    if (err instanceof CacheError && err.code === 'CACHE' && !fs.existsSync(file)) throw err;
    const movedTo = moveAside(file);
    const reason = (err as Error).message;
    return { ...openChecked(file, false), recovered: { movedTo, reason } };
  }
}

/**
 * A database found corrupt while in use (`quick_check` on open, when it runs, reads the pages, not
 * whether each index matches its table): close it, move it aside and make a new one, as openDatabase does.
 */
export function replaceDatabase(db: Db, failure: StateDatabaseError, file: string): OpenResult {
  try {
    db.close();
  } catch {
    // it is being thrown away
  }
  const movedTo = moveAside(file);
  return { ...openChecked(file, false), recovered: { movedTo, reason: failure.message } };
}

/** A failure of SQLite while the database is in use, as a typed error; undefined for any other error. */
export function databaseFailure(err: unknown, file: string): StateDatabaseError | undefined {
  if (err instanceof StateDatabaseError) return err;
  if (!(err instanceof Database.SqliteError)) return undefined;
  const corrupt = /^SQLITE_(CORRUPT|NOTADB)/.test(err.code);
  return new StateDatabaseError(`the state database failed in use: ${err.message} (${err.code})`, {
    file,
    corrupt,
    cause: err,
    hint: corrupt ? 'it is moved aside and a new one is made: the build starts from scratch' : 'check the disk it lives on (space, permissions, errors)',
  });
}

/** Keep a database that cannot be used (never delete it): returns where it went. */
function moveAside(file: string): string {
  const movedTo = `${file}.broken-${Date.now()}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, movedTo + suffix);
  }
  return movedTo;
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A statement prepared once per database: better-sqlite3 compiles the SQL at every prepare (about
 * 0.1 ms), which the daemon's queries after each build (history, counters, settings) paid each time.
 */
export function statement(db: Db, sql: string): Database.Statement {
  let known = statements.get(db);
  if (!known) statements.set(db, (known = new Map()));
  let s = known.get(sql);
  if (!s) known.set(sql, (s = db.prepare(sql)));
  return s;
}

/** Close a database opened by openDatabase, cleanly: the next open need not check it. */
export function closeDatabase(db: Db): void {
  if (!db.open) return;
  db.close();
  fs.rmSync(markerOf(db.name), { force: true });
}

function openChecked(file: string, unclean: boolean): { db: Db; checked: boolean } {
  let db: Db | undefined;
  try {
    const existed = fs.existsSync(file);
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const checked = existed && (unclean || Date.now() - lastCheck(db) > CHECK_EVERY_MS);
    if (checked) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CacheError(`database failed its integrity check: ${String(check)}`, { file });
    }
    db.exec(SCHEMA);
    if (checked || !existed) db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value').run('checked_at', String(Date.now()));
    markOpen(file);
    const row = db.prepare('SELECT value FROM meta WHERE name = ?').get('schema') as { value: string } | undefined;
    if (!row) {
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run('schema', String(SCHEMA_VERSION));
    } else if (row.value !== String(SCHEMA_VERSION)) {
      throw new CacheError(`database has schema ${row.value}, this osvd needs ${SCHEMA_VERSION}`, { file });
    }
    return { db, checked };
  } catch (err) {
    db?.close();
    if (err instanceof CacheError) throw err;
    throw new CacheError(`cannot use the state database: ${(err as Error).message}`, { file, cause: err });
  }
}

/** When the database was last checked (0: never, or not known). */
function lastCheck(db: Db): number {
  try {
    const row = db.prepare('SELECT value FROM meta WHERE name = ?').get('checked_at') as { value: string } | undefined;
    return Number(row?.value ?? 0);
  } catch {
    return 0; // no meta table yet: an older or empty database
  }
}

/**
 * Each process that has the database open leaves a marker beside it (`state.db.open-<pid>`), removed
 * when it closes the database (closeDatabase). A marker whose process is gone means the database was
 * not closed cleanly.
 */
function markerOf(file: string): string {
  return `${file}.open-${process.pid}`;
}

function markOpen(file: string): void {
  try {
    fs.writeFileSync(markerOf(file), '');
  } catch {
    // Nowhere to write it: the next open finds no marker, and checks on its schedule.
  }
}

/** Remove the markers of processes that are gone; true when there was one (an unclean close). */
function takeLeftMarkers(file: string): boolean {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.open-`;
  let left = false;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return false;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    left = true;
    fs.rmSync(path.join(dir, name), { force: true });
  }
  return left;
}
