import fs from 'node:fs';
import path from 'node:path';
import type { OutputRecord } from '../graph/action.js';
import type { OutputStore } from '../graph/traces.js';
import type { Db } from './db.js';
import { copyHashing } from './fileContentHash.js';
import { moveInto } from '../base/moveInto.js';
import { StoreCopier, type CopyDone } from './storeCopier.js';

export const DEFAULT_STORE_BYTES = 2 * 1024 ** 3;

export interface StoreOptions {
  readonly maxBytes?: number;
  /** Where files are written before they are renamed into place (see scratch.ts). */
  readonly scratchDir: string;
  /**
   * Make every write of the store fail with this error code, as a full disk would (`ENOSPC`):
   * lets the tests drive the real fallback paths. Set from OSVD_STORE_FAIL.
   */
  readonly simulateFailure?: string;
}

/** What the store could not do; the build goes on without it. */
export interface StoreTrouble {
  readonly op: 'save' | 'restore';
  readonly path: string;
  readonly error: string;
}

/**
 * The content-addressed store: outputs kept by content hash under `dir/ab/cdef...`. Files enter and
 * leave it by copy to a temporary name and rename, so a crash leaves the old file or the new one,
 * and a restored file is never a hard link a later compile could overwrite in place. Every restore
 * checks the blob's hash; a bad blob is dropped and the action runs instead. A store that cannot write
 * (a full disk) skips caching or restoring, and the build runs the action: it never fails for the cache.
 */
/** How often evict() sums the store's rows anyway (see ContentStore.knownBytes). */
const RECOUNT_EVERY = 50;

export class ContentStore implements OutputStore {
  private readonly hasBlob;
  private readonly insertBlob;
  private readonly touchBlob;
  private readonly dropBlob;
  private readonly maxBytes: number;
  /** Writes that failed since the last call of takeTroubles(), for the log. */
  private troubles: StoreTrouble[] = [];
  /** Blobs save() found in the store, whose last use is not written yet (see settled()). */
  private readonly touched = new Set<string>();
  /** Hashes on their way into the store (not yet usable for a restore). */
  private readonly copying = new Set<string>();
  private readonly copier: StoreCopier;
  private serial = 0;
  /**
   * The store's bytes as this process last summed them, plus what it has added since: evict() looks
   * at it after every build instead of summing every blob's row (150,000 rows at 50,000 TUs). Other
   * processes add blobs too, so it is summed again every RECOUNT_EVERY calls and before evicting.
   */
  private knownBytes: number | undefined;
  private evictCalls = 0;

  constructor(private readonly db: Db, private readonly dir: string, private readonly root: string, private readonly options: StoreOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_STORE_BYTES;
    this.hasBlob = db.prepare('SELECT 1 FROM blobs WHERE hash = ?');
    this.insertBlob = db.prepare('INSERT INTO blobs (hash, size, last_used) VALUES (?, ?, ?) ON CONFLICT(hash) DO UPDATE SET last_used = excluded.last_used');
    this.touchBlob = db.prepare('UPDATE blobs SET last_used = ? WHERE hash = ?');
    this.dropBlob = db.prepare('DELETE FROM blobs WHERE hash = ?');
    this.copier = new StoreCopier(
      (done) => this.copied(done),
      (why) => {
        this.copying.clear();
        this.note('save', '(copy thread)', new Error(why));
      },
    );
  }

  has(hash: string): boolean {
    return this.hasBlob.get(hash) !== undefined;
  }

  /**
   * Copies are made in the background (a worker thread, see storeCopier.ts), off the builder's path: a blob is in the
   * store once its copy is complete (`settled()` waits for them all). Restores check every blob's
   * hash, so a file rewritten while it was being copied is never restored wrongly.
   */
  save(record: OutputRecord): void {
    if (this.copying.has(record.hash)) return;
    if (this.has(record.hash)) {
      // Noted now, written in one transaction at the build's end: a statement outside a transaction is a commit of its own.
      this.touched.add(record.hash);
      return;
    }
    try {
      this.faultPoint();
    } catch (err) {
      this.note('save', record.path, err);
      return;
    }
    this.copying.add(record.hash);
    this.copier.add({ hash: record.hash, size: record.size, src: path.resolve(this.root, record.path), tmp: this.scratchFile(), blob: this.blobPath(record.hash) });
  }

  /** Wait for the copies started by save(), and note the blobs it found in the store as used. */
  async settled(): Promise<void> {
    await this.copier.settled();
    this.flushTouches();
  }

  /** Write the last uses noted since the last call, in one transaction (a build's end calls it). */
  flushTouches(): void {
    if (this.touched.size === 0 || !this.db.open) return;
    const hashes = [...this.touched];
    this.touched.clear();
    const now = Date.now();
    this.db.transaction(() => {
      for (const h of hashes) this.touchBlob.run(now, h);
    })();
  }

  /** Start the copy thread ahead of the first copy (the daemon does, as it starts). */
  warm(): void {
    this.copier.warm();
  }

  /** Stop the copy thread (copies not yet made are not cached). */
  close(): void {
    this.flushTouches();
    this.copier.close();
  }

  private copied(done: readonly CopyDone[]): void {
    const now = Date.now();
    const record = (): void => {
      for (const d of done) {
        this.copying.delete(d.hash);
        if (d.error !== undefined) this.note('save', path.relative(this.root, d.src), new Error(d.error));
        else {
          this.insertBlob.run(d.hash, d.size, now);
          if (this.knownBytes !== undefined) this.knownBytes += d.size;
        }
      }
    };
    if (!this.db.open) {
      for (const d of done) this.copying.delete(d.hash);
      return;
    }
    try {
      this.db.transaction(record)();
    } catch (err) {
      // Their rows could not be written (a full disk, say): the copies are not in the store, and their
      // files go (no row would ever evict them). The store is a cache: the build goes on.
      this.knownBytes = undefined;
      for (const d of done) {
        this.copying.delete(d.hash);
        if (d.error === undefined) this.dropUnrecorded(d.hash);
      }
      this.note('save', `${done.length} copies`, err);
    }
  }

  /** Remove a blob's file that has no row (none made it; another process's row keeps its file). */
  private dropUnrecorded(hash: string): void {
    try {
      if (!this.has(hash)) fs.rmSync(this.blobPath(hash), { force: true });
    } catch {
      // left for a later save of the same content to overwrite
    }
  }

  restore(record: OutputRecord): boolean {
    const dest = path.resolve(this.root, record.path);
    try {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (record.hash === 'dir') fs.mkdirSync(dest, { recursive: true });
    } catch (err) {
      this.note('restore', record.path, err);
      return false;
    }
    if (record.hash === 'dir') return true;
    if (record.hash.startsWith('link:')) {
      const tmp = this.scratchFile();
      try {
        fs.symlinkSync(record.hash.slice('link:'.length), tmp);
        fs.renameSync(tmp, dest);
        return true;
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        this.note('restore', record.path, err);
        return false;
      }
    }
    let blob: number;
    try {
      blob = fs.openSync(this.blobPath(record.hash), 'r');
    } catch {
      this.dropBlob.run(record.hash);
      return false;
    }
    // Copied to a scratch name, checked, and renamed: a crash leaves the old file or the new one, and
    // a blob whose bytes no longer hash to its name is dropped, its copy with it.
    const tmp = this.scratchFile();
    try {
      this.faultPoint();
      const copied = copyHashing(blob, tmp, record.mode);
      if (copied !== record.hash) {
        fs.rmSync(tmp, { force: true });
        fs.rmSync(this.blobPath(record.hash), { force: true });
        this.dropBlob.run(record.hash);
        return false;
      }
      fs.chmodSync(tmp, record.mode);
      moveInto(tmp, dest);
    } catch (err) {
      // No room to restore: the action runs instead (and meets the full disk itself, if it is one).
      fs.rmSync(tmp, { force: true });
      this.note('restore', record.path, err);
      return false;
    } finally {
      fs.closeSync(blob);
    }
    this.touched.add(record.hash);
    return true;
  }

  /**
   * Keep bytes that came from elsewhere (the shared cache), already checked against `hash` by the
   * caller: written under a scratch name and renamed, as every blob. False when they cannot be kept.
   */
  putBlob(hash: string, data: Uint8Array): boolean {
    if (this.has(hash)) return true;
    const blob = this.blobPath(hash);
    const tmp = this.scratchFile();
    try {
      this.faultPoint();
      fs.mkdirSync(path.dirname(blob), { recursive: true });
      fs.writeFileSync(tmp, data);
      moveInto(tmp, blob);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      this.note('save', `(blob ${hash.slice(0, 12)} from the shared cache)`, err);
      return false;
    }
    this.insertBlob.run(hash, data.length, Date.now());
    return true;
  }

  /** What failed since the last call (for the log); the build went on without it. */
  takeTroubles(): StoreTrouble[] {
    const t = this.troubles;
    this.troubles = [];
    return t;
  }

  private note(op: StoreTrouble['op'], p: string, err: unknown): void {
    if (this.troubles.length < 100) this.troubles.push({ op, path: p, error: (err as Error)?.message ?? String(err) });
  }

  private faultPoint(): void {
    const code = this.options.simulateFailure;
    if (code) throw Object.assign(new Error(`${code}: simulated (OSVD_STORE_FAIL)`), { code });
  }

  private scratchFile(): string {
    // The scratch folder is this process's own: a counter is enough to keep names apart.
    return path.join(this.options.scratchDir, `store-${this.serial++}`);
  }

  /** What the store holds: its blobs' bytes and count, and its cap (for osvd stats). */
  usage(): { bytes: number; entries: number; maxBytes: number } {
    const row = this.db.prepare('SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS entries FROM blobs').get() as { bytes: number; entries: number };
    return { ...row, maxBytes: this.maxBytes };
  }

  totalBytes(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM blobs').get() as { n: number }).n;
  }

  /** Drop least recently used blobs until the store is within its cap. Returns how many went. */
  evict(): number {
    this.flushTouches();
    if (this.knownBytes === undefined || ++this.evictCalls % RECOUNT_EVERY === 0) this.knownBytes = this.totalBytes();
    if (this.knownBytes <= this.maxBytes) return 0;
    let total = (this.knownBytes = this.totalBytes());
    if (total <= this.maxBytes) return 0;
    const target = Math.floor(this.maxBytes * 0.9);
    const rows = this.db.prepare('SELECT hash, size FROM blobs ORDER BY last_used ASC').iterate() as Iterable<{ hash: string; size: number }>;
    const victims: string[] = [];
    for (const row of rows) {
      if (total <= target) break;
      victims.push(row.hash);
      total -= row.size;
    }
    this.db.transaction(() => {
      for (const h of victims) this.dropBlob.run(h);
    })();
    for (const h of victims) fs.rmSync(this.blobPath(h), { force: true });
    this.knownBytes = total;
    return victims.length;
  }

  /** Remove every blob (osvd clean --all). */
  clear(): void {
    this.db.prepare('DELETE FROM blobs').run();
    this.knownBytes = 0;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private blobPath(hash: string): string {
    if (!/^[0-9a-f]{8,}$/.test(hash)) throw new Error(`not a content hash: '${hash.slice(0, 40)}'`);
    return path.join(this.dir, hash.slice(0, 2), hash.slice(2));
  }
}
