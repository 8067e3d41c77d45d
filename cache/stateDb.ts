import path from 'node:path';
import type { StateDatabaseError } from '../base/errors.js';
import { Counters } from './counters.js';
import { closeDatabase, databaseFailure, openDatabase, replaceDatabase, type Db, type OpenResult } from './db.js';
import { FileState } from './fileState.js';
import { BuildHistory } from './history.js';
import { ImportDb } from './importDb.js';
import { Settings } from './settings.js';
import { ContentStore, type StoreOptions } from './store.js';
import { StringPool } from './strings.js';
import { TraceDb } from './traceDb.js';

/**
 * A tree's state in SQLite: the database and what is kept in it (file hashes, traces, the store's
 * index, the build history, the imports, settings, osvd stats' counters). A database found corrupt
 * while in use is replaced whole: moved aside as openDatabase does on open, and everything kept in
 * it made anew.
 */
export class StateDb {
  files!: FileState;
  traces!: TraceDb;
  store!: ContentStore;
  history!: BuildHistory;
  imports!: ImportDb;
  settings!: Settings;
  counters!: Counters;
  private db!: Db;

  /**
   * `recovered`: set when the database was unusable on open and a new one was made. `checkedMs`: how
   * long its check took, when it was checked on open (see openDatabase).
   */
  private constructor(private readonly file: string, private readonly root: string, private readonly storeDir: string, private readonly storeOptions: StoreOptions, readonly recovered: OpenResult['recovered'], readonly checkedMs: number | undefined) {}

  static open(stateDir: string, root: string, storeOptions: StoreOptions): StateDb {
    const file = path.join(stateDir, 'state.db');
    const started = performance.now();
    const { db, recovered, checked } = openDatabase(file);
    const checkedMs = checked ? Math.round(performance.now() - started) : undefined;
    const state = new StateDb(file, root, path.join(stateDir, 'store'), storeOptions, recovered, checkedMs);
    state.attach(db);
    return state;
  }

  private attach(db: Db): void {
    const strings = new StringPool();
    this.db = db;
    this.files = new FileState(db, this.root, strings);
    this.traces = new TraceDb(db, strings);
    this.store = new ContentStore(db, this.storeDir, this.root, this.storeOptions);
    this.history = new BuildHistory(db);
    this.imports = new ImportDb(db);
    this.settings = new Settings(db);
    this.counters = new Counters(db);
  }

  /**
   * Copy the write-ahead log into the database now, without waiting for readers (PASSIVE): after a
   * build, once its answer is sent, rather than in the middle of the next build when the log passes
   * SQLite's own threshold (a checkpoint and its syncs, on the builder's thread).
   */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** A failure of SQLite as a typed error (undefined when `err` is something else). */
  failure(err: unknown): StateDatabaseError | undefined {
    return databaseFailure(err, this.file);
  }

  /**
   * Run `fn` (a build); when the database turns out corrupt in the middle of it (a page quick_check
   * did not read), replace it (`onReplaced` is told where the old one went) and run `fn` once more,
   * from scratch, as a corrupt database found on open is handled. Any other failure of SQLite comes
   * out as a StateDatabaseError.
   */
  async recovering<T>(fn: () => Promise<T>, onReplaced: (failure: StateDatabaseError, movedTo: string) => Promise<void> | void): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const failure = this.failure(err);
      if (!failure?.corrupt) throw failure ?? err;
      await onReplaced(failure, this.replace(failure));
      try {
        return await fn();
      } catch (again) {
        throw this.failure(again) ?? again;
      }
    }
  }

  /** Move a database found corrupt in use aside and start on a new one: returns where it went. */
  replace(failure: StateDatabaseError): string {
    this.store.close();
    const { db, recovered } = replaceDatabase(this.db, failure, this.file);
    this.attach(db);
    return recovered!.movedTo;
  }

  /**
   * Write what is queued and close. The database is closed even when the writes fail (a full disk):
   * that failure is thrown afterwards, and what it kept from the file runs again next time.
   */
  close(): void {
    let failure: unknown;
    for (const write of [() => this.store.close(), () => this.traces.flush()]) {
      try {
        write();
      } catch (err) {
        failure ??= err;
      }
    }
    closeDatabase(this.db);
    if (failure !== undefined) throw failure;
  }
}
