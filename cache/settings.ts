import type { Db } from './db.js';

/** Small named values kept across runs, such as the knobs set live with `osvd set`. */
export class Settings {
  constructor(private readonly db: Db) {}

  get<T>(name: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE name = ?').get(`setting:${name}`) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(name: string, value: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)').run(`setting:${name}`, JSON.stringify(value));
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM meta WHERE name = ?').run(`setting:${name}`);
  }
}
