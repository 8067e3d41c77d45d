import type { Db } from './db.js';

/** One page of a table read in its rowid order: each row as an array, the rowid first. */
export interface RowidPage {
  readonly rows: readonly unknown[][];
  /** No page comes after this one: a reader that pauses between pages does not pause after it. */
  readonly last: boolean;
}

/**
 * A whole table read `size` rows at a time in its rowid order, for a reader that lets others run
 * between pages (the daemon's start at 50,000 TUs reads hundreds of thousands of rows). Each page
 * starts after the last rowid read, not at an offset: no page costs a scan of the rows before it, and
 * rows written between pages are read by a later page when they come after it. The next page is read
 * only when asked for, so whatever the reader does between pages happens before that read. A table
 * without rows gives one empty last page.
 */
export function* rowidPages(db: Db, table: string, columns: string, size: number): Generator<RowidPage> {
  const page = db.prepare(`SELECT rowid, ${columns} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?`).raw();
  for (let after = 0; ; ) {
    const rows = page.all(after, size) as unknown[][];
    const last = rows.length < size;
    yield { rows, last };
    if (last) return;
    after = rows[rows.length - 1]![0] as number;
  }
}
