import type { FileHasher } from '../graph/traces.js';

/**
 * What the daemon read of the files that make it load anew (osv.config.ts and the modules it imports,
 * the makefiles make read), by content. An event on one of them reloads only when its content differs
 * from what was read: a touch, an editor's save of the same text, or the first check of a file written
 * just before the daemon started (its time too close to when it was read for a stat to vouch for it)
 * cost a 50,000-TU tree seconds of reloading for nothing.
 */
export class ReadContent {
  private readonly read = new Map<string, string>();

  constructor(private readonly files: Pick<FileHasher, 'hash'>) {}

  /** The content of `paths` now is what was just read (call right after reading them). */
  noteNow(paths: readonly string[]): void {
    for (const p of paths) this.read.set(p, this.files.hash(p) ?? 'missing');
  }

  /** The hashes the reader itself saw (the import's makefiles): replace what was noted for those paths. */
  noteSeen(seen: readonly (readonly [string, string])[]): void {
    for (const [p, h] of seen) this.read.set(p, h);
  }

  /**
   * Which of `paths` differ from what was read: each is hashed afresh (call after the events'
   * paths were invalidated). A path never noted counts as changed.
   */
  changed(paths: readonly string[]): string[] {
    return paths.filter((p) => {
      const was = this.read.get(p);
      return was === undefined || (this.files.hash(p) ?? 'missing') !== was;
    });
  }
}
