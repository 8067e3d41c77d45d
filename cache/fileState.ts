import fs from 'node:fs';
import path from 'node:path';
import { absoluteIn } from '../graph/paths.js';
import type { OutputRecord } from '../graph/action.js';
import type { FileHasher } from '../graph/traces.js';
import type { Db } from './db.js';
import { hashFileContents } from './fileContentHash.js';
import { OUTSIDE_MEMO_MIN_BYTES, OutsideHashes } from './outsideHashes.js';
import { RACY_NS, racyStat } from './racyStat.js';
import { rowidPages } from './rowidPages.js';
import type { StringPool } from './strings.js';

interface StatRow {
  size: number;
  mtime_ns: string;
  ctime_ns: string;
  ino: string;
  hash: string;
  racy: number;
}

const RACY_MS = Number(RACY_NS / 1_000_000n);
/** beginBulk reads this many rows at a time (~40 ms at 50,000 TUs). */
const BULK_PAGE = 10_000;

/**
 * Hashes of files, re-computed only when a file's stat (size, mtime, ctime, inode) changed since it
 * was last hashed.
 */
export class FileState implements FileHasher {
  /**
   * What is known of each path in this process (its hash and the stat it had when looked at), as a
   * slot of `known`; invalidated when a path is written.
   */
  private readonly memo = new Map<string, number>();
  private readonly known = new KnownFiles();
  /**
   * Paths hashed within RACY_NS of their last change, with when (Date.now(), in the order hashed):
   * their stat may not move when they change again (coarse timestamps), so a stat check does not
   * vouch for them (see changedSince) until settleRacy has hashed them again.
   */
  private readonly racy = new Map<string, number>();
  private readonly pending = new Map<string, StatRow>();
  /** Every path's row, read in one pass, between beginBulk and endBulk, as one line (see bulkLine). */
  private bulk: Map<string, string> | undefined;
  private readonly select;
  private readonly upsert;

  /** `pool`: shared with the last runs (see StringPool). */
  constructor(
    private readonly db: Db,
    private readonly root: string,
    private readonly pool: Pick<StringPool, 'one'> = { one: (x) => x },
    /** Large files outside the tree (compilers) as other build folders hashed them (outsideHashes.ts). */
    private readonly outside: Pick<OutsideHashes, 'get' | 'put'> = new OutsideHashes(),
  ) {
    this.select = db.prepare('SELECT size, mtime_ns, ctime_ns, ino, hash, racy FROM files WHERE path = ?');
    this.upsert = db.prepare(
      'INSERT INTO files (path, size, mtime_ns, ctime_ns, ino, hash, racy) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, ino = excluded.ino, hash = excluded.hash, racy = excluded.racy',
    );
  }

  invalidate(p: string): void {
    const slot = this.memo.get(p);
    if (slot !== undefined) {
      this.memo.delete(p);
      this.known.free(slot);
    }
    this.racy.delete(p);
  }

  /** Forget everything held in memory (the tree may have changed behind our back). */
  invalidateAll(): void {
    this.memo.clear();
    this.known.clear();
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
      if (before === undefined || this.racy.has(p) || !this.known.sameStat(before, this.lstat(p))) {
        this.invalidate(p);
        changed.push(p);
      }
    }
    return changed;
  }

  /**
   * Hash again, once their window has passed, the paths that were racy when hashed (changed less
   * than RACY_NS before): the same stat and the same bytes, and the stat now vouches for the hash,
   * in this process and in the row (racy 0). Else the next process to look at them hashes each again:
   * a daemon's first plan after a one-shot build hashed every output of that build twice (20,007
   * files at 10,000 TUs, +0.65 s to its start; +6.6 s at 50,000). Bytes that differ under the same
   * stat: the path is forgotten, and its next look hashes it. Works in hash order for up to
   * `budgetMs`; returns how many racy paths are left.
   */
  settleRacy(budgetMs: number): number {
    const started = performance.now();
    for (const [p, hashedAt] of this.racy) {
      if (Date.now() - hashedAt < RACY_MS || performance.now() - started >= budgetMs) break;
      this.racy.delete(p);
      const slot = this.memo.get(p);
      if (slot === undefined) continue;
      const st = this.lstatOrNone(p);
      const now = BigInt(Date.now()) * 1_000_000n;
      if (!st || !st.isFile() || !this.known.sameStat(slot, st) || racyStat(st, now)) {
        // Changed since (or its change time is in the future): its next look hashes it.
        this.invalidate(p);
        continue;
      }
      let hash: string;
      try {
        hash = hashFileContents(absoluteIn(this.root, p));
      } catch {
        this.invalidate(p);
        continue;
      }
      if (hash !== this.known.hash(slot)) {
        this.invalidate(p);
        continue;
      }
      this.pending.set(p, { size: Number(st.size), mtime_ns: String(st.mtimeNs), ctime_ns: String(st.ctimeNs), ino: String(st.ino), hash, racy: 0 });
    }
    return this.racy.size;
  }

  private lstatOrNone(p: string): fs.BigIntStats | undefined {
    try {
      return this.lstat(p);
    } catch {
      return undefined;
    }
  }

  /** Whether this process has looked at the path since it was last invalidated (its hash is in memory). */
  looked(p: string): boolean {
    return this.memo.has(p);
  }

  changedMs(p: string): number | null {
    try {
      return fs.lstatSync(absoluteIn(this.root, p), { throwIfNoEntry: false })?.ctimeMs ?? null;
    } catch {
      return null;
    }
  }

  hash(p: string): string | null {
    return this.known.hash(this.slotOf(p));
  }

  hashNow(p: string): string | null {
    const before = this.memo.get(p);
    if (before !== undefined && !this.racy.has(p) && this.known.sameStat(before, this.lstat(p))) return this.known.hash(before);
    this.invalidate(p);
    return this.hash(p);
  }

  describe(p: string): OutputRecord | null {
    const slot = this.slotOf(p);
    const hash = this.known.hash(slot);
    if (hash === null) return null;
    const special = hash === 'dir' || hash.startsWith('link:');
    return { path: p, hash, mode: this.known.mode(slot) & 0o7777, size: special ? 0 : this.known.size(slot) };
  }

  private slotOf(p: string): number {
    let slot = this.memo.get(p);
    if (slot === undefined) {
      const { hash, st } = this.compute(p);
      this.memo.set(p, (slot = this.known.add(hash, st)));
    }
    return slot;
  }

  /**
   * Read every path's row at once, for a process about to look at most of them (a daemon's first
   * plan), until endBulk: a row by its own query costs about twice as much (the 54,261 rows of the
   * 10,000-TU tree: 569 ms one by one, 263 ms in one pass).
   */
  beginBulk(): void {
    for (const _ of this.bulkPages());
  }

  /**
   * beginBulk for a process that must keep answering (the daemon's start): `pause` is awaited between
   * pages (a single pass held the event loop ~1.2 s at 50,000 TUs).
   */
  async beginBulkPaged(pause: () => Promise<void>): Promise<void> {
    for (const _ of this.bulkPages()) await pause();
  }

  /**
   * Reads the rows BULK_PAGE at a time, in the table's order, yielding between pages. The map is in
   * place from the start, so that a flush meanwhile updates it as it does a finished one; a page read
   * later reads what that flush wrote. (Until the last page, a path not yet read is looked up as new.)
   */
  private *bulkPages(): Generator<void> {
    const rows = new Map<string, string>();
    this.bulk = rows;
    // A row as one string (not an object of five strings: 270,000 rows at 50,000 TUs).
    const line = `size || ' ' || mtime_ns || ' ' || ctime_ns || ' ' || ino || ' ' || racy || ' ' || hash`;
    for (const page of rowidPages(this.db, 'files', `path, ${line}`, BULK_PAGE)) {
      for (const [, p, l] of page.rows as [number, string, string][]) rows.set(p, l);
      if (!page.last) yield;
    }
  }

  endBulk(): void {
    this.bulk = undefined;
  }

  /** Write the stat rows gathered since the last flush, in one transaction. */
  flush(): void {
    if (this.pending.size === 0) return;
    const rows = [...this.pending];
    // The bulk read's rows for these paths are older than what is now written.
    if (this.bulk) for (const [p, r] of rows) this.bulk.set(p, bulkLine(r.size, r.mtime_ns, r.ctime_ns, r.ino, r.racy) + r.hash);
    this.pending.clear();
    try {
      this.db.transaction(() => {
        for (const [p, r] of rows) this.upsert.run(p, r.size, r.mtime_ns, r.ctime_ns, r.ino, r.hash, r.racy);
      })();
    } catch (err) {
      // Nothing was written (a full disk, say): the rows wait for the next flush, unless newer ones came.
      for (const [p, r] of rows) if (!this.pending.has(p)) this.pending.set(p, r);
      throw err;
    }
  }

  private lstat(p: string): fs.BigIntStats | undefined {
    return fs.lstatSync(absoluteIn(this.root, p), { bigint: true, throwIfNoEntry: false });
  }

  private compute(p: string): { hash: string | null; st?: fs.BigIntStats } {
    const abs = absoluteIn(this.root, p);
    let st: fs.BigIntStats | undefined;
    try {
      st = this.lstat(p);
    } catch {
      st = undefined;
    }
    if (!st) return MISSING;
    const known = (hash: string | null): { hash: string | null; st?: fs.BigIntStats } => (hash === null ? MISSING : { hash: this.pool.one(hash), st });
    if (st.isSymbolicLink()) return known(`link:${fs.readlinkSync(abs)}`);
    if (st.isDirectory()) return known('dir');
    const size = Number(st.size);
    const row = this.pending.get(p) ?? (this.bulk ? undefined : (this.select.get(p) as StatRow | undefined));
    if (row) {
      if (!row.racy && row.size === size && row.mtime_ns === String(st.mtimeNs) && row.ctime_ns === String(st.ctimeNs) && row.ino === String(st.ino)) return known(row.hash);
    } else if (this.bulk) {
      const line = this.bulk.get(p);
      const prefix = bulkLine(size, String(st.mtimeNs), String(st.ctimeNs), String(st.ino), 0);
      if (line?.startsWith(prefix)) return known(line.slice(prefix.length));
    }
    // Outside the tree a path is absolute (treePath); a compiler is worth a look in the user's memo.
    const memo = size >= OUTSIDE_MEMO_MIN_BYTES && path.isAbsolute(p) && st.isFile();
    let hash = memo ? this.outside.get(abs, st) : undefined;
    if (hash === undefined) {
      try {
        hash = hashFileContents(abs);
      } catch {
        return MISSING;
      }
      if (memo) this.outside.put(abs, st, hash);
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    const racy = racyStat(st, now) ? 1 : 0;
    this.pending.set(p, { size, mtime_ns: String(st.mtimeNs), ctime_ns: String(st.ctimeNs), ino: String(st.ino), hash, racy });
    if (racy) this.racy.set(p, Date.now());
    return known(hash);
  }
}

const MISSING = { hash: null };

/** A bulk row up to its hash, as beginBulk's query writes it: the stat a hash is good for (racy 0: a stat that vouches). */
function bulkLine(size: number, mtimeNs: string, ctimeNs: string, ino: string, racy: number): string {
  return `${size} ${mtimeNs} ${ctimeNs} ${ino} ${racy} `;
}

/**
 * Paths' hashes (null: it does not exist, or could not be read) and the stats they had when hashed,
 * in slots: five numbers a slot in one array (mode, size, mtime, ctime, inode). An object per path
 * took 120 bytes, the three times each a boxed number of their own (~20 MB at 50,000 TUs).
 * Times and inodes are kept as the low 52 bits of their nanoseconds, exact as numbers: equal stats
 * compare equal, and two different times would have to differ by a multiple of 52 days to compare equal.
 */
class KnownFiles {
  private hashes: (string | null)[] = [];
  private stats = new Float64Array(FIELDS * 1024);
  private readonly freed: number[] = [];

  add(hash: string | null, st: fs.BigIntStats | undefined): number {
    const slot = this.freed.pop() ?? this.hashes.length;
    if ((slot + 1) * FIELDS > this.stats.length) {
      const grown = new Float64Array(this.stats.length * 2);
      grown.set(this.stats);
      this.stats = grown;
    }
    this.hashes[slot] = hash;
    const at = slot * FIELDS;
    this.stats[at] = st ? Number(st.mode) : 0;
    this.stats[at + 1] = st ? Number(st.size) : -1;
    this.stats[at + 2] = st ? low(st.mtimeNs) : 0;
    this.stats[at + 3] = st ? low(st.ctimeNs) : 0;
    this.stats[at + 4] = st ? low(st.ino) : 0;
    return slot;
  }

  free(slot: number): void {
    this.hashes[slot] = null;
    this.freed.push(slot);
  }

  clear(): void {
    this.hashes = [];
    this.stats = new Float64Array(FIELDS * 1024);
    this.freed.length = 0;
  }

  hash(slot: number): string | null {
    return this.hashes[slot]!;
  }

  mode(slot: number): number {
    return this.stats[slot * FIELDS]!;
  }

  size(slot: number): number {
    return this.stats[slot * FIELDS + 1]!;
  }

  /** Whether a path still has the stat it had when it became known (both missing counts as the same). */
  sameStat(slot: number, st: fs.BigIntStats | undefined): boolean {
    const at = slot * FIELDS;
    const k = this.stats;
    if (!st) return k[at + 1] === -1;
    return k[at + 1] === Number(st.size) && k[at] === Number(st.mode) && k[at + 2] === low(st.mtimeNs) && k[at + 3] === low(st.ctimeNs) && k[at + 4] === low(st.ino);
  }
}

const FIELDS = 5;

function low(n: bigint): number {
  return Number(n & 0xfffffffffffffn);
}
