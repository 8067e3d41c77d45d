import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from '../cache/db.js';
import { rowidPages } from '../cache/rowidPages.js';

/** The daemon's start reads the stat rows and the last runs through this pager (see bulkReads.test.ts). */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function freshDb(): ReturnType<typeof openDatabase>['db'] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-pages-'));
  dirs.push(dir);
  return openDatabase(path.join(dir, 'state.db')).db;
}

describe('rowidPages', () => {
  it('reads every row once in rowid order, a page at a time, the next page only when asked for', () => {
    const db = freshDb();
    const put = db.prepare('INSERT INTO failures (action_id, message, at) VALUES (?, ?, ?)');
    for (let i = 0; i < 7; i++) put.run(`a${i}`, `m${i}`, i);
    const seen: string[] = [];
    const lasts: boolean[] = [];
    for (const page of rowidPages(db, 'failures', 'action_id, message', 3)) {
      for (const [rowid, id, message] of page.rows as [number, string, string][]) seen.push(`${rowid}:${id}:${message}`);
      lasts.push(page.last);
      // Written between pages: a row after the ones read comes in a later page; one removed is not read.
      if (lasts.length === 1) {
        put.run('late', 'm-late', 99);
        db.prepare("DELETE FROM failures WHERE action_id = 'a5'").run();
      }
    }
    expect(seen).toEqual(['1:a0:m0', '2:a1:m1', '3:a2:m2', '4:a3:m3', '5:a4:m4', '7:a6:m6', '8:late:m-late']);
    expect(lasts).toEqual([false, false, true]);
    closeDatabase(db);
  });

  it('gives an empty table one empty last page, and a table of exactly one page a second, empty, last page', () => {
    const db = freshDb();
    expect([...rowidPages(db, 'failures', 'action_id', 3)]).toEqual([{ rows: [], last: true }]);
    const put = db.prepare('INSERT INTO failures (action_id, message, at) VALUES (?, ?, ?)');
    for (let i = 0; i < 3; i++) put.run(`a${i}`, 'm', i);
    expect([...rowidPages(db, 'failures', 'action_id', 3)].map((p) => [p.rows.length, p.last])).toEqual([
      [3, false],
      [0, true],
    ]);
    closeDatabase(db);
  });
});
