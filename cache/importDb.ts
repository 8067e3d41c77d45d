import type { Db } from './db.js';

/**
 * The imports of the tree's Makefile kept in the database, each under the hash of everything that can
 * change it (osv/ decides the key and what is stored); only the newest few are kept.
 */
export class ImportDb {
  constructor(private readonly db: Db, private readonly keep = 8) {}

  get(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM imports WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  put(key: string, value: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR REPLACE INTO imports (key, value, created_at) VALUES (?, ?, ?)').run(key, value, Date.now());
      this.db.prepare('DELETE FROM imports WHERE key NOT IN (SELECT key FROM imports ORDER BY created_at DESC LIMIT ?)').run(this.keep);
    })();
  }
}
