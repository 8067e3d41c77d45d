import type { ChangeSource, ChangeSourceOptions, WatcherHealth } from './changeSource.js';
import type { InotifyQueue } from './inotifyQueue.js';
import { TreeWatcher } from './watcher.js';

/**
 * The folder watcher (watcher.ts) as a change source: the backend where watchman is absent. Its events
 * keep the plan current between builds, but it never vouches for them: libuv hides the kernel's
 * IN_Q_OVERFLOW, so a build stats every tracked path first (a few milliseconds at OSv's scale, see
 * BENCHMARKS.md). The shared inotify queue counter reports a probable overflow as it happens, so that
 * status says "verifying" instead of trusting a plan that missed edits.
 */
export class FolderSource implements ChangeSource {
  readonly backend = 'folders';
  readonly seesOutputs = false;
  private readonly watcher: TreeWatcher;

  constructor(options: ChangeSourceOptions, queue: InotifyQueue) {
    this.watcher = new TreeWatcher({ ...options, ignore: [options.outputs, ...options.ignore], queue });
    this.watcher.health.backend = 'folders';
  }

  get health(): WatcherHealth {
    return this.watcher.health;
  }

  /** Number of folders watched (one inotify watch each). */
  get watchedFolders(): number {
    return this.watcher.watchedFolders;
  }

  start(): Promise<void> {
    return this.watcher.start();
  }

  async settle(): Promise<boolean> {
    // Delivers what came before the call (a cookie file and inotify's order), but proves nothing lost.
    await this.watcher.sync();
    return false;
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}
