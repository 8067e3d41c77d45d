import fs from 'node:fs';
import path from 'node:path';
import type { OutputRecord } from '../graph/action.js';
import { hashBytes } from '../graph/hash.js';
import type { OutputStore } from '../graph/traces.js';
import type { Db } from './db.js';

export const DEFAULT_STORE_BYTES = 2 * 1024 ** 3;

/**
 * The content-addressed store: outputs kept by content hash under `dir/ab/cdef...`. Files enter and
 * leave it by copy to a temporary name and rename, so a crash leaves the old file or the new one,
 * and a restored file is never a hard link a later compile could overwrite in place. Every restore
 * checks the blob's hash; a bad blob is dropped and the action runs instead.
 */
export class ContentStore implements OutputStore {
  private readonly hasBlob;
  private readonly insertBlob;
  private readonly touchBlob;
  private readonly dropBlob;
  private readonly copying = new Map<string, Promise<void>>();
  private serial = 0;
  private readonly dirsMade = new Set<string>();

  constructor(private readonly db: Db, private readonly dir: string, private readonly root: string, private readonly maxBytes = DEFAULT_STORE_BYTES) {
    this.hasBlob = db.prepare('SELECT 1 FROM blobs WHERE hash = ?');
    this.insertBlob = db.prepare('INSERT INTO blobs (hash, size, last_used) VALUES (?, ?, ?) ON CONFLICT(hash) DO UPDATE SET last_used = excluded.last_used');
    this.touchBlob = db.prepare('UPDATE blobs SET last_used = ? WHERE hash = ?');
    this.dropBlob = db.prepare('DELETE FROM blobs WHERE hash = ?');
  }

  has(hash: string): boolean {
    return this.hasBlob.get(hash) !== undefined;
  }

  /**
   * Copies are made in the background (libuv's threads), off the builder's path: a blob is in the
   * store once its copy is complete (`settled()` waits for them all). Restores check every blob's
   * hash, so a file rewritten while it was being copied is never restored wrongly.
   */
  save(record: OutputRecord): void {
    if (this.copying.has(record.hash)) return;
    if (this.has(record.hash)) {
      this.touchBlob.run(Date.now(), record.hash);
      return;
    }
    const blob = this.blobPath(record.hash);
    const tmp = `${blob}.tmp-${process.pid}-${this.serial++}`;
    const copy = (async () => {
      try {
        const dir = path.dirname(blob);
        if (!this.dirsMade.has(dir)) {
          await fs.promises.mkdir(dir, { recursive: true });
          this.dirsMade.add(dir);
        }
        await fs.promises.copyFile(path.resolve(this.root, record.path), tmp, fs.constants.COPYFILE_FICLONE);
        await fs.promises.rename(tmp, blob);
        if (this.db.open) this.insertBlob.run(record.hash, record.size, Date.now());
      } catch {
        // A full disk or a vanished file must not fail the build: the output is simply not cached.
        await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      } finally {
        this.copying.delete(record.hash);
      }
    })();
    this.copying.set(record.hash, copy);
  }

  /** Wait for the copies started by save(). */
  async settled(): Promise<void> {
    while (this.copying.size > 0) await Promise.all([...this.copying.values()]);
  }

  restore(record: OutputRecord): boolean {
    const dest = path.resolve(this.root, record.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (record.hash === 'dir') {
      fs.mkdirSync(dest, { recursive: true });
      return true;
    }
    if (record.hash.startsWith('link:')) {
      const tmp = `${dest}.osvd-tmp-${process.pid}`;
      fs.rmSync(tmp, { force: true });
      fs.symlinkSync(record.hash.slice('link:'.length), tmp);
      fs.renameSync(tmp, dest);
      return true;
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(this.blobPath(record.hash));
    } catch {
      this.dropBlob.run(record.hash);
      return false;
    }
    if (hashBytes(data) !== record.hash) {
      fs.rmSync(this.blobPath(record.hash), { force: true });
      this.dropBlob.run(record.hash);
      return false;
    }
    const tmp = `${dest}.osvd-tmp-${process.pid}`;
    fs.writeFileSync(tmp, data, { mode: record.mode });
    fs.chmodSync(tmp, record.mode);
    fs.renameSync(tmp, dest);
    this.touchBlob.run(Date.now(), record.hash);
    return true;
  }

  totalBytes(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM blobs').get() as { n: number }).n;
  }

  /** Drop least recently used blobs until the store is within its cap. Returns how many went. */
  evict(): number {
    let total = this.totalBytes();
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
    return victims.length;
  }

  /** Remove every blob (osvd clean --all). */
  clear(): void {
    this.dirsMade.clear();
    this.db.prepare('DELETE FROM blobs').run();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private blobPath(hash: string): string {
    return path.join(this.dir, hash.slice(0, 2), hash.slice(2));
  }
}
