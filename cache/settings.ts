import { statement, type Db } from './db.js';

/** Small named values kept across runs, such as the knobs set live with `osvd set`. */
export class Settings {
  constructor(private readonly db: Db) {}

  get<T>(name: string): T | undefined {
    const row = statement(this.db, 'SELECT value FROM meta WHERE name = ?').get(`setting:${name}`) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(name: string, value: unknown): void {
    statement(this.db, 'INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)').run(`setting:${name}`, JSON.stringify(value));
  }

  delete(name: string): void {
    statement(this.db, 'DELETE FROM meta WHERE name = ?').run(`setting:${name}`);
  }
}
