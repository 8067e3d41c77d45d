import type { ChangeSource, ChangeSourceOptions, WatcherChoice } from './changeSource.js';
import { FolderSource } from './folderSource.js';
import type { InotifyQueue } from './inotifyQueue.js';
import type { Logger } from './log.js';
import { WatchmanSource } from './watchmanSource.js';

/**
 * The change source for a choice: watchman when asked for, or with `auto` when it is installed and
 * answers; the folder watcher otherwise. Asked for and absent, watchman is reported in the health
 * (the folder watcher stands in), not an error: the daemon still works.
 */
export async function openChangeSource(choice: WatcherChoice, options: ChangeSourceOptions, queue: InotifyQueue, log: Logger): Promise<ChangeSource> {
  if (choice !== 'folders') {
    try {
      const source = await WatchmanSource.connect(options);
      log.info('watching the tree with watchman');
      return source;
    } catch (err) {
      const why = (err as Error).message;
      log[choice === 'watchman' ? 'warn' : 'info']({ why }, 'watchman is not available: watching folders');
      const folders = new FolderSource(options, queue);
      if (choice === 'watchman') folders.health.problem = `watchman was asked for but is not available (${why}); osvd watches folders instead`;
      return folders;
    }
  }
  return new FolderSource(options, queue);
}
