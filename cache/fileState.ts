import fs from 'node:fs';
import { hashBytes } from '../graph/hash.js';
import { absoluteIn } from '../graph/paths.js';
import type { OutputRecord } from '../graph/action.js';
import type { FileHasher } from '../graph/traces.js';
import type { Db } from './db.js';
import type { StringPool } from './strings.js';

interface StatRow {
  size: number;
  mtime_ns: string;
  ctime_ns: string;
  ino: string;
  hash: string;
  racy: number;
}

/**
 * A file modified within this long of being hashed could change again without its stat changing
 * (coarse timestamps): such an entry is trusted once more only after a re-hash, as git does for its index.
 */
const RACY_NS = 2_000_000_000n;

/**
 * Hashes of files, re-computed only when a file's stat (size, mtime, ctime, inode) changed since it
 * was last hashed.
 */
export class FileState implements FileHasher {
  /**
   * What is known of each path in this process (its hash and the stat it had when looked at);
   * invalidated when a path is written. One small object per path: a record plus a stat signature
   * string took twice the memory.
   */
  private readonly memo = new Map<string, Known>();
  /**
   * Paths hashed within RACY_NS of their last change: their stat may not move when they change again
   * (coarse timestamps), so a stat check does not vouch for them (see changedSince).
   */
  private readonly racy = new Set<string>();
  private readonly pending = new Map<string, StatRow>();
  private readonly select;
  private readonly upsert;

  /** `pool`: shared with the last runs (see StringPool). */
  constructor(
    private readonly db: Db,
    private readonly root: string,
    private readonly pool: Pick<StringPool, 'one'> = { one: (x) => x },
  ) {
    this.select = db.prepare('SELECT size, mtime_ns, ctime_ns, ino, hash, racy FROM files WHERE path = ?');
    this.upsert = db.prepare(
      'INSERT INTO files (path, size, mtime_ns, ctime_ns, ino, hash, racy) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, ino = excluded.ino, hash = excluded.hash, racy = excluded.racy',
    );
  }

  invalidate(p: string): void {
    this.memo.delete(p);
    this.racy.delete(p);
  }

  /** Forget everything held in memory (the tree may have changed behind our back). */
  invalidateAll(): void {
    this.memo.clear();
    this.racy.clear();
  }

  /**
   * Of these paths, those whose stat differs from when they were last looked at (or that were never
   * looked at), now forgotten: cheaper than invalidateAll when most files are known not to have
   * changed (the daemon's watched tree) and only some must be checked (outputs, files outside it).
   * A path hashed within two seconds of its last change counts as changed: its stat proves nothing.
   */
  changedSince(paths: Iterable<string>): string[] {
    const changed: string[] = [];
    for (const p of paths) {
      const before = this.memo.get(p);
      if (before === undefined || this.racy.has(p) || !sameStat(before, this.lstat(p))) {
        this.invalidate(p);
        changed.push(p);
      }
    }
    return changed;
  }

  mtimeMs(p: string): number | null {
    try {
      return fs.lstatSync(absoluteIn(this.root, p), { throwIfNoEntry: false })?.mtimeMs ?? null;
    } catch {
      return null;
    }
  }

  hash(p: string): string | null {
    return this.known(p).hash;
  }

  hashNow(p: string): string | null {
    const before = this.memo.get(p);
    if (before !== undefined && !this.racy.has(p) && sameStat(before, this.lstat(p))) return before.hash;
    this.invalidate(p);
    return this.hash(p);
  }

  describe(p: string): OutputRecord | null {
    const k = this.known(p);
    if (k.hash === null) return null;
    const special = k.hash === 'dir' || k.hash.startsWith('link:');
    return { path: p, hash: k.hash, mode: k.mode & 0o7777, size: special ? 0 : k.size };
  }

  private known(p: string): Known {
    let k = this.memo.get(p);
    if (k === undefined) this.memo.set(p, (k = this.compute(p)));
    return k;
  }

  /** Write the stat rows gathered since the last flush, in one transaction. */
  flush(): void {
    if (this.pending.size === 0) return;
    const rows = [...this.pending];
    this.pending.clear();
    this.db.transaction(() => {
      for (const [p, r] of rows) this.upsert.run(p, r.size, r.mtime_ns, r.ctime_ns, r.ino, r.hash, r.racy);
    })();
  }

  private lstat(p: string): fs.BigIntStats | undefined {
    return fs.lstatSync(absoluteIn(this.root, p), { bigint: true, throwIfNoEntry: false });
  }

  private compute(p: string): Known {
    const abs = absoluteIn(this.root, p);
    let st: fs.BigIntStats | undefined;
    try {
      st = this.lstat(p);
    } catch {
      st = undefined;
    }
    if (!st) return MISSING;
    const known = (hash: string | null): Known => (hash === null ? MISSING : new Known(this.pool.one(hash), st));
    if (st.isSymbolicLink()) return known(`link:${fs.readlinkSync(abs)}`);
    if (st.isDirectory()) return known('dir');
    const size = Number(st.size);
    const row = (this.pending.get(p) ?? this.select.get(p)) as StatRow | undefined;
    if (row && !row.racy && row.size === size && row.mtime_ns === String(st.mtimeNs) && row.ctime_ns === String(st.ctimeNs) && row.ino === String(st.ino)) {
      return known(row.hash);
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(abs);
    } catch {
      return MISSING;
    }
    const hash = hashBytes(data);
    const now = BigInt(Date.now()) * 1_000_000n;
    const racy = now - st.mtimeNs < RACY_NS || now - st.ctimeNs < RACY_NS ? 1 : 0;
    this.pending.set(p, { size, mtime_ns: String(st.mtimeNs), ctime_ns: String(st.ctimeNs), ino: String(st.ino), hash, racy });
    if (racy) this.racy.add(p);
    return known(hash);
  }
}

/**
 * A path's hash (null: it does not exist, or could not be read) and the stat it had when hashed.
 * Times are kept as the low 52 bits of their nanoseconds, exact as numbers: equal stats compare equal,
 * and two different times would have to differ by a multiple of 52 days to compare equal.
 */
class Known {
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly ctime: number;
  readonly ino: number;

  constructor(readonly hash: string | null, st: fs.BigIntStats | undefined) {
    this.mode = st ? Number(st.mode) : 0;
    this.size = st ? Number(st.size) : -1;
    this.mtime = st ? low(st.mtimeNs) : 0;
    this.ctime = st ? low(st.ctimeNs) : 0;
    this.ino = st ? low(st.ino) : 0;
  }
}

const MISSING = new Known(null, undefined);

function low(n: bigint): number {
  return Number(n & 0xfffffffffffffn);
}

/** Whether a path still has the stat it had when it became known (both missing counts as the same). */
function sameStat(k: Known, st: fs.BigIntStats | undefined): boolean {
  if (!st) return k.size === -1;
  return k.size === Number(st.size) && k.mode === Number(st.mode) && k.mtime === low(st.mtimeNs) && k.ctime === low(st.ctimeNs) && k.ino === low(st.ino);
}
