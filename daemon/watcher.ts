import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/**
 * The tree's file watcher (chokidar over inotify). Events are coalesced into batches of changed
 * paths (relative to the root), so that a `git checkout` of a thousand files is one update. When the
 * watcher cannot work (the inotify limit, an overflow), it says so and the daemon falls back to
 * periodic stat scans: it degrades, never fails silently.
 */
export interface WatcherHealth {
  mode: 'events' | 'polling' | 'off';
  healthy: boolean;
  problem?: string;
  fix?: string;
  lastEventAt?: number;
  ready: boolean;
}

export interface TreeWatcherOptions {
  root: string;
  /** Paths (relative to the root) whose whole subtree is ignored, e.g. build, .git. */
  ignore: readonly string[];
  onBatch: (paths: string[]) => void;
  onHealth: (health: WatcherHealth) => void;
  /** How long to wait for more events before delivering a batch. */
  settleMs?: number;
}

/** Files the daemon creates in the tree's root to know the watcher has caught up (as watchman's cookies). */
const COOKIE_PREFIX = '.osvd-cookie-';

const INOTIFY_FIX = 'raise the limit: sysctl fs.inotify.max_user_watches=524288 (and fs.inotify.max_user_instances), then osvd stop && osvd start';

export class TreeWatcher {
  /** Live: the daemon shows this object in status. */
  readonly health: WatcherHealth = { mode: 'off', healthy: false, ready: false };
  private watcher: FSWatcher | undefined;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private cookies = new Map<string, () => void>();
  private started: (() => void) | undefined;
  private cookieSerial = 0;

  constructor(private readonly options: TreeWatcherOptions) {}

  start(): Promise<void> {
    const { root } = this.options;
    const ignored = this.options.ignore.map((p) => path.resolve(root, p));
    const isIgnored = (p: string): boolean => ignored.some((i) => p === i || p.startsWith(i + path.sep)) || path.basename(p).startsWith('.osv.config.');
    this.health.mode = 'events';
    this.watcher = watch(root, { ignored: isIgnored, ignoreInitial: true, persistent: true, atomic: 50, followSymlinks: false });
    this.watcher.on('all', (_event, p) => this.note(path.relative(root, p)));
    this.watcher.on('error', (err) => this.degrade(err as NodeJS.ErrnoException));
    if (process.env.OSVD_WATCHER_FAIL) {
      // Lets the tests drive the real degrade path without lowering the machine's inotify limit.
      setTimeout(() => this.degrade(Object.assign(new Error('simulated'), { code: process.env.OSVD_WATCHER_FAIL })), 50);
    }
    return new Promise((resolve) => {
      // A watcher that fails while scanning never gets ready: start() ends when it degrades, too.
      this.started = resolve;
      this.watcher!.once('ready', () => {
        this.health.ready = true;
        if (this.health.mode === 'events') this.health.healthy = true;
        this.options.onHealth({ ...this.health });
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * Resolves true once every change made before the call has been delivered to onBatch: a cookie file
   * is created in the root, and events come in order, so when the cookie's arrives the rest have too.
   * False when the watcher is not working or the cookie is not seen within `timeoutMs`.
   */
  async sync(timeoutMs = 2000): Promise<boolean> {
    if (!this.watcher || this.health.mode !== 'events' || !this.health.ready) return false;
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
    if (this.health.mode === 'polling') return;
    const limit = err.code === 'ENOSPC' || err.code === 'EMFILE';
    this.health.mode = 'polling';
    this.health.healthy = false;
    this.health.problem = limit ? `the file watcher hit the inotify limit (${err.code}); osvd scans the tree every few seconds instead` : `the file watcher failed (${err.code ?? err.message}); osvd scans the tree every few seconds instead`;
    this.health.fix = limit ? INOTIFY_FIX : 'osvd stop && osvd start';
    void this.watcher?.close();
    this.watcher = undefined;
    this.options.onHealth({ ...this.health });
    this.started?.();
  }
}
