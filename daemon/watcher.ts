import fs from 'node:fs';
import path from 'node:path';
import type { WatcherHealth } from './changeSource.js';
import type { InotifyQueue } from './inotifyQueue.js';
import { ignoredFolders } from './ignore.js';
import { COOKIE_PREFIX, isIgnored, join, parentOf, watchFailure } from './watchedNames.js';

export type { WatcherHealth } from './changeSource.js';

/**
 * The tree's file watcher: one inotify watch per folder (fs.watch on a folder names the entries that
 * changed in it), not one per file as chokidar puts, which ran out of watches at 50,000 TUs. Events
 * are coalesced into batches of changed paths (relative to the root, `/`-separated), so that a
 * `git checkout` of a thousand files is one update. A path ending in `/` is a folder that went away
 * (deleted, or moved out): whatever the daemon knew under it has changed; the watcher keeps only
 * folder names, not the files in them. When the watcher cannot work (the inotify limit, a watch that
 * fails), it says so and the daemon falls back to periodic stat scans: it degrades, never fails silently.
 */
export interface TreeWatcherOptions {
  root: string;
  /** Folders whose whole subtree is ignored, e.g. build, .git (read by ignoredFolders). */
  ignore: readonly string[];
  onBatch: (paths: string[]) => void;
  onHealth: (health: WatcherHealth) => void;
  /** How long to wait for more events before delivering a batch. */
  settleMs?: number;
  /** Counts every event, to notice an overflowed inotify queue. */
  queue?: InotifyQueue;
}


/** Folders read at once while the tree is first walked (the walk must not hold the main thread). */
const WALK_CHUNK = 64;

/** A watched folder: its watch and the names of its watched subfolders (to drop a subtree at once). */
interface Folder {
  watch: fs.FSWatcher;
  children: Set<string>;
}

export class TreeWatcher {
  /** Live: the daemon shows this object in status. */
  readonly health: WatcherHealth = { mode: 'off', healthy: false, ready: false };
  /** Watched folders by path relative to the root ('' is the root). */
  private readonly folders = new Map<string, Folder>();
  private readonly ignored: string[];
  private closed = false;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private cookies = new Map<string, () => void>();
  private started: (() => void) | undefined;
  private cookieSerial = 0;

  constructor(private readonly options: TreeWatcherOptions) {
    this.ignored = ignoredFolders(options.root, options.ignore);
  }

  /** Number of folders watched (one inotify watch each). */
  get watchedFolders(): number {
    return this.folders.size;
  }

  /** Resolves once every folder of the tree is watched, or the watcher has degraded. */
  start(): Promise<void> {
    this.health.mode = 'events';
    if (process.env.OSVD_WATCHER_FAIL) {
      // Lets the tests drive the real degrade path without lowering the machine's inotify limit.
      setTimeout(() => this.degrade(Object.assign(new Error('simulated'), { code: process.env.OSVD_WATCHER_FAIL })), 50);
    }
    return new Promise((resolve) => {
      // A watcher that fails while walking never gets ready: start() ends when it degrades, too.
      this.started = resolve;
      this.walkTree().then(
        () => {
          if (!this.working()) return;
          this.health.ready = true;
          this.health.healthy = true;
          this.options.onHealth({ ...this.health });
          resolve();
        },
        (err: NodeJS.ErrnoException) => this.degrade(err),
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unwatchAll();
    this.started?.();
  }

  /**
   * Resolves true once every change made before the call has been delivered to onBatch: a cookie file
   * is created in the root, and events come in order (libuv reads every watch from one inotify
   * descriptor), so when the cookie's arrives the rest have too.
   * False when the watcher is not working or the cookie is not seen within `timeoutMs`.
   */
  async sync(timeoutMs = 2000): Promise<boolean> {
    if (this.closed || !this.folders.has('') || this.health.mode !== 'events' || !this.health.ready) return false;
    const name = `${COOKIE_PREFIX}${process.pid}-${this.cookieSerial++}`;
    const file = path.join(this.options.root, name);
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<boolean>((resolve) => {
      this.cookies.set(name, () => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      fs.writeFileSync(file, '');
      return await seen;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      this.cookies.delete(name);
      fs.rmSync(file, { force: true });
    }
  }

  /**
   * The first walk: watch each folder, then read it (so that a subfolder made meanwhile is either
   * listed or announced by an event), in chunks of asynchronous reads. Files are not reported: the
   * daemon compares the database's stats with the tree on start.
   */
  private async walkTree(): Promise<void> {
    const queue = [''];
    while (queue.length > 0 && this.working()) {
      const chunk = queue.splice(0, WALK_CHUNK);
      await Promise.all(
        chunk.map(async (dir) => {
          if (this.folders.has(dir) || !this.watchFolder(dir)) return;
          let entries: fs.Dirent[];
          try {
            entries = await fs.promises.readdir(this.abs(dir), { withFileTypes: true });
          } catch (err) {
            this.readFailed(dir, err as NodeJS.ErrnoException);
            return;
          }
          for (const e of entries) {
            const rel = join(dir, e.name);
            if (e.isDirectory() && !this.isIgnored(rel) && !this.folders.has(rel)) queue.push(rel);
          }
        }),
      );
    }
  }

  /**
   * A folder that appeared after the first walk (made, or moved in): watch it and its subfolders and
   * report every file in them, since some may have been written before the watch began. Synchronous,
   * so that these paths come before any later event (a sync() cookie's, say).
   */
  private watchNewTree(top: string): void {
    const stack = [top];
    while (stack.length > 0 && this.working()) {
      const dir = stack.pop()!;
      if (this.folders.has(dir) || !this.watchFolder(dir)) continue;
      const entries = this.list(dir);
      if (!entries) continue;
      for (const e of entries) {
        const rel = join(dir, e.name);
        if (this.isIgnored(rel)) continue;
        if (e.isDirectory()) stack.push(rel);
        else this.note(rel);
      }
    }
  }

  /** Watch one folder; false when it is not there (any more) or the watcher degraded. */
  private watchFolder(dir: string): boolean {
    let watch: fs.FSWatcher;
    try {
      watch = fs.watch(this.abs(dir), { persistent: dir === '', encoding: 'utf8' }, (event, name) => {
        this.options.queue?.saw();
        if (this.folders.get(dir)?.watch === watch) this.onEvent(dir, event, name);
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return false;
      this.degrade(e);
      return false;
    }
    watch.on('error', (err: NodeJS.ErrnoException) => {
      if (this.folders.get(dir)?.watch !== watch) return;
      if (this.isFolder(dir)) this.degrade(err);
      else this.gone(dir);
    });
    this.folders.set(dir, { watch, children: new Set() });
    if (dir !== '') this.folders.get(parentOf(dir))?.children.add(path.posix.basename(dir));
    return true;
  }

  private onEvent(dir: string, event: string, name: string | null): void {
    if (!this.working()) return;
    if (name === null || name === '') {
      this.rescan(dir);
      return;
    }
    const rel = join(dir, name);
    if (dir === '' && name.startsWith(COOKIE_PREFIX)) {
      this.note(rel);
      return;
    }
    // Events about the watched folder itself (deleted, moved) carry its own name.
    if (event === 'rename' && name === path.basename(this.abs(dir)) && !this.isFolder(dir)) {
      this.gone(dir);
      return;
    }
    if (this.isIgnored(rel)) return;
    if (event === 'change') {
      this.note(rel);
      return;
    }
    // A name made, deleted or moved in or out. If it names a watched folder, that folder is gone
    // (deleted, moved away, or replaced by another); a folder there now is a new one.
    this.gone(rel);
    if (this.isFolder(rel)) this.watchNewTree(rel);
    else this.note(rel);
  }

  /** An event without a name: look at every entry of the folder again. */
  private rescan(dir: string): void {
    const entries = this.list(dir);
    if (!entries) return;
    const present = new Set<string>();
    for (const e of entries) {
      const rel = join(dir, e.name);
      present.add(e.name);
      if (this.isIgnored(rel)) continue;
      if (!e.isDirectory()) this.note(rel);
      else if (!this.folders.has(rel)) this.watchNewTree(rel);
    }
    for (const child of [...(this.folders.get(dir)?.children ?? [])]) if (!present.has(child)) this.gone(join(dir, child));
  }

  /** A watched folder's entries; undefined when it cannot be read (see readFailed). */
  private list(dir: string): fs.Dirent[] | undefined {
    try {
      return fs.readdirSync(this.abs(dir), { withFileTypes: true });
    } catch (err) {
      this.readFailed(dir, err as NodeJS.ErrnoException);
      return undefined;
    }
  }

  private readFailed(dir: string, err: NodeJS.ErrnoException): void {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') this.gone(dir);
    else this.degrade(err);
  }

  /** A watched folder is no longer there: stop watching it and its subfolders, and report it. */
  private gone(dir: string): void {
    if (!this.folders.has(dir)) return;
    if (dir === '') {
      this.degrade(Object.assign(new Error('the tree\'s root folder went away'), { code: 'ENOENT' }));
      return;
    }
    this.unwatch(dir);
    this.folders.get(parentOf(dir))?.children.delete(path.posix.basename(dir));
    this.note(`${dir}/`);
  }

  private unwatch(dir: string): void {
    const folder = this.folders.get(dir);
    if (!folder) return;
    this.folders.delete(dir);
    folder.watch.close();
    for (const child of folder.children) this.unwatch(join(dir, child));
  }

  private unwatchAll(): void {
    for (const folder of this.folders.values()) folder.watch.close();
    this.folders.clear();
  }

  private note(rel: string): void {
    if (rel === '' || rel.startsWith('..')) return;
    if (rel.startsWith(COOKIE_PREFIX)) {
      const done = this.cookies.get(rel);
      if (done) {
        // Deliver what came before the cookie now rather than after the settle delay.
        if (this.timer) clearTimeout(this.timer);
        this.flush();
        done();
      }
      return;
    }
    this.pending.add(rel);
    this.health.lastEventAt = Date.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.options.settleMs ?? 30);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending = new Set();
    this.options.onBatch(batch);
  }

  private degrade(err: NodeJS.ErrnoException): void {
    if (this.health.mode === 'polling' || this.closed) return;
    this.health.mode = 'polling';
    this.health.healthy = false;
    Object.assign(this.health, watchFailure(err));
    this.unwatchAll();
    this.options.onHealth({ ...this.health });
    this.started?.();
  }

  private working(): boolean {
    return !this.closed && this.health.mode === 'events';
  }

  private isIgnored(rel: string): boolean {
    return isIgnored(rel, this.ignored);
  }

  /** Is this a folder, not following a symbolic link (as the walk does not). */
  private isFolder(rel: string): boolean {
    try {
      return fs.lstatSync(this.abs(rel)).isDirectory();
    } catch {
      return false;
    }
  }

  private abs(rel: string): string {
    return rel === '' ? this.options.root : path.join(this.options.root, rel);
  }
}
