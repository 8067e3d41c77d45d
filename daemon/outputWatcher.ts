import fs from 'node:fs';
import path from 'node:path';
import type { InotifyQueue } from './inotifyQueue.js';

/**
 * Which outputs may have changed since the daemon last looked, so that a build re-checks those
 * instead of every output of the graph (100,000 stats at 50,000 TUs: more than ninja's whole no-op).
 * The tree watcher ignores the build folder (builds write thousands of files there); this watches just
 * the folders that hold outputs, one inotify watch each, and notes the names that changed. An output
 * whose folder is not watched (it did not exist yet, or its watch ended) is always "possibly changed".
 * The cookie of TreeWatcher.sync() also orders these events: libuv reads every watch from one inotify
 * descriptor, in order.
 */
export class OutputWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  /** Outputs by folder (relative to the root). */
  private byDir = new Map<string, string[]>();
  private touched = new Set<string>();
  /** Folders of tracked outputs that have no watch (not there yet, or their watch ended). */
  private unwatched = new Set<string>();

  /**
   * `queue`: counts every event, to notice an overflowed inotify queue (shared with the tree's watcher);
   * `onChange`: told after each event is noted.
   */
  constructor(private readonly root: string, private readonly queue?: InotifyQueue, private readonly onChange?: () => void) {}

  /** Watch the folders of these outputs (the graph's, when it is loaded). */
  track(outputs: Iterable<string>): void {
    const byDir = new Map<string, string[]>();
    for (const o of outputs) {
      const dir = path.dirname(o);
      const list = byDir.get(dir);
      if (list) list.push(o);
      else byDir.set(dir, [o]);
    }
    for (const [dir, w] of this.watchers) {
      if (!byDir.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    this.byDir = byDir;
    this.unwatched = new Set([...byDir.keys()].filter((dir) => !this.watchers.has(dir)));
    this.retry();
  }

  /**
   * Try again to watch the folders that are not watched (after a build, which may have made them):
   * the tracked outputs stay the same, so the rest is not looked at again.
   */
  retry(): void {
    for (const dir of this.unwatched) {
      try {
        const abs = path.join(this.root, dir);
        const w: fs.FSWatcher = fs.watch(abs, { persistent: false }, (event, name) => {
          this.queue?.saw();
          if (name) this.touched.add(dir === '.' ? String(name) : `${dir}/${name}`);
          // The folder itself may have gone (its watch then ends without an error).
          if (!name || (event === 'rename' && !fs.existsSync(abs))) this.lose(dir, w);
          this.onChange?.();
        });
        w.on('error', () => this.lose(dir, w));
        this.watchers.set(dir, w);
        this.unwatched.delete(dir);
      } catch {
        // Not there yet (or no watch left): its outputs are checked every time.
      }
    }
  }

  /** Outputs that may have changed since the last call; forgets them. */
  takeChanged(): string[] {
    const out = [...this.touched];
    this.touched = new Set();
    for (const dir of this.unwatched) out.push(...(this.byDir.get(dir) ?? []));
    return out;
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private lose(dir: string, w: fs.FSWatcher): void {
    w.close();
    if (this.watchers.get(dir) !== w) return;
    this.watchers.delete(dir);
    if (this.byDir.has(dir)) this.unwatched.add(dir);
  }
}
