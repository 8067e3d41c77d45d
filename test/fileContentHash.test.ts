import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, closeDatabase } from '../cache/db.js';
import { copyHashing, hashFileContents } from '../cache/fileContentHash.js';
import { FileState } from '../cache/fileState.js';
import { hashBytes } from '../graph/hash.js';

/**
 * Files are hashed a chunk at a time through one buffer (a compiler's cc1plus is 35 MB): the hash must
 * be the one of the whole file's bytes at every size around the chunk's, and a buffer reused from a
 * longer file must not leak its tail into a shorter one.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-chunkhash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MB = 1 << 20;

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('a file hashed in chunks', () => {
  it('hashes as its bytes do, at every size around the chunk', () => {
    // Longest first: each shorter file is read into the buffer the longer one filled.
    for (const n of [3 * MB + 5, 2 * MB, MB + 1, MB, MB - 1, 4097, 1, 0]) {
      const data = bytes(n, n);
      const file = path.join(dir, `f${n}`);
      fs.writeFileSync(file, data);
      expect(hashFileContents(file), `${n} bytes`).toBe(hashBytes(data));
    }
  });

  it('throws for a file that is not there; FileState hashes through it', () => {
    expect(() => hashFileContents(path.join(dir, 'absent'))).toThrow(/ENOENT/);
    const { db } = openDatabase(path.join(dir, 'state.db'));
    try {
      const files = new FileState(db, dir);
      fs.writeFileSync(path.join(dir, 'big'), bytes(2 * MB + 3, 7));
      expect(files.hash('big')).toBe(hashBytes(fs.readFileSync(path.join(dir, 'big'))));
      expect(files.hash('absent')).toBeNull();
      fs.mkdirSync(path.join(dir, 'folder'));
      expect(files.hash('folder')).toBe('dir');
    } finally {
      closeDatabase(db);
    }
  });

  it('copies a file as it hashes it: the same bytes, their hash, the mode asked for', () => {
    for (const n of [3 * MB + 5, MB, MB - 1, 1, 0]) {
      const data = bytes(n, n + 1);
      const src = path.join(dir, `src${n}`);
      const dest = path.join(dir, `dest${n}`);
      fs.writeFileSync(src, data);
      // A longer file already at the destination is cut to the copy's length.
      fs.writeFileSync(dest, bytes(n + 100, 3));
      const fd = fs.openSync(src, 'r');
      try {
        expect(copyHashing(fd, dest, 0o600), `${n} bytes`).toBe(hashBytes(data));
      } finally {
        fs.closeSync(fd);
      }
      expect(fs.readFileSync(dest).equals(data), `${n} bytes`).toBe(true);
      fs.rmSync(dest);
      const again = fs.openSync(src, 'r');
      copyHashing(again, dest, 0o751);
      fs.closeSync(again);
      expect(fs.statSync(dest).mode & 0o777).toBe(0o751 & ~process.umask());
    }
  });
});
