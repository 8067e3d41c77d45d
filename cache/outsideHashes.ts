import fs from 'node:fs';
import path from 'node:path';
import { userCacheDir } from '../base/userCache.js';
import { racyStat } from './racyStat.js';

/**
 * Hashes of large files outside the tree (the compilers: cc1plus alone is 35 MB), kept in the user's
 * cache folder with the stat each was good for, so that a new build folder (a fresh clone, `rm -rf
 * build`, another tree) does not read ~70 MB again: ~65 ms of a cold one-shot build here. Trusted, as
 * the state database's rows are, only while device, inode, size, mtime and ctime are all the same, and
 * written only for a file that was not racy when it was hashed (racyStat: a file changed within the
 * same clock tick could keep its stat). A compiler upgraded in place gets new times (and usually a
 * new inode): it is hashed again. The file is only a cache: unreadable or malformed, it is ignored
 * and written afresh.
 */

/** Files smaller than this are hashed as they are met (a header costs less than the lookup). */
export const OUTSIDE_MEMO_MIN_BYTES = 256 * 1024;
/** Entries kept: the most recently hashed. */
const MAX_ENTRIES = 200;
const FILE_NAME = 'outside-hashes.json';

interface Entry {
  readonly stat: string;
  readonly hash: string;
  /** When it was hashed (Date.now()): the oldest go first when the memo is full. */
  readonly at: number;
}

/** The stat a memo entry is good for. */
function statKey(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

export class OutsideHashes {
  private entries: Map<string, Entry> | undefined;

  constructor(private readonly file = path.join(userCacheDir(), FILE_NAME)) {}

  /** The hash recorded for this absolute path with exactly this stat, if any. */
  get(abs: string, st: fs.BigIntStats): string | undefined {
    const e = this.load().get(abs);
    return e !== undefined && e.stat === statKey(st) ? e.hash : undefined;
  }

  /** Record a hash just computed for a file with this stat (taken before it was read); a racy one is not. */
  put(abs: string, st: fs.BigIntStats, hash: string): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    if (racyStat(st, now)) return;
    // Read again first: another process may have added its own since this one read the file.
    this.entries = undefined;
    const entries = this.load();
    entries.set(abs, { stat: statKey(st), hash, at: Date.now() });
    const kept = [...entries].sort((a, b) => b[1].at - a[1].at).slice(0, MAX_ENTRIES);
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}`;
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(kept)));
      fs.renameSync(tmp, this.file);
    } catch {
      // only a cache
    }
    this.entries = new Map(kept);
  }

  private load(): Map<string, Entry> {
    if (this.entries !== undefined) return this.entries;
    const entries = new Map<string, Entry>();
    try {
      const json = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      if (typeof json === 'object' && json !== null) {
        for (const [k, v] of Object.entries(json as Record<string, Partial<Entry>>)) {
          if (typeof v?.stat === 'string' && typeof v.hash === 'string' && typeof v.at === 'number') entries.set(k, { stat: v.stat, hash: v.hash, at: v.at });
        }
      }
    } catch {
      // none yet, or unreadable: start empty
    }
    return (this.entries = entries);
  }
}
