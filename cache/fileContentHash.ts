import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { HASH_CHARS } from '../graph/hash.js';

/** Read through one buffer of this size: big enough for few calls, small enough to stay in the CPU's cache. */
const CHUNK = 1 << 20;
let chunk: Buffer | undefined;

/**
 * A file's content hash (what hashBytes gives for its bytes), read a chunk at a time through one
 * buffer. Reading a compiler's 35 MB cc1plus whole and hashing it cost 166 ms (a fresh 35 MB buffer's
 * page faults, then a hash over memory no cache holds); through a 1 MB buffer, 31 ms. An import hashes
 * the compilers it finds (osv/compilerIdentity.ts), a link its kernel. Throws what reading throws.
 */
export function hashFileContents(file: string): string {
  const h = createHash('sha256');
  const buf = (chunk ??= Buffer.allocUnsafe(CHUNK));
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex').slice(0, HASH_CHARS);
}

/**
 * Copy an open file to `dest` (created with `mode`, or truncated) through the same buffer, hashing
 * what passes: one read of the source instead of a whole-file buffer read, hashed, then written.
 * Returns the bytes' hash; the caller compares it and throws the copy away when it differs.
 */
export function copyHashing(srcFd: number, dest: string, mode: number): string {
  const h = createHash('sha256');
  const buf = (chunk ??= Buffer.allocUnsafe(CHUNK));
  const out = fs.openSync(dest, 'w', mode);
  try {
    for (;;) {
      const n = fs.readSync(srcFd, buf, 0, CHUNK, null);
      if (n === 0) break;
      const piece = n === CHUNK ? buf : buf.subarray(0, n);
      h.update(piece);
      for (let at = 0; at < n; ) at += fs.writeSync(out, piece, at, n - at);
    }
  } finally {
    fs.closeSync(out);
  }
  return h.digest('hex').slice(0, HASH_CHARS);
}
