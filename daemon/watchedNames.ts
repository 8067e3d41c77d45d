import path from 'node:path';
import { isUnder } from './ignore.js';

/** The names the folder watcher (watcher.ts) reports or leaves out, and what it says when it fails. */

/** Files the daemon creates in the tree's root to know the watcher has caught up (as watchman's cookies). */
export const COOKIE_PREFIX = '.osvd-cookie-';

/** Names osv/config.ts writes next to osv.config.ts while it loads it. */
const CONFIG_SCRATCH_PREFIX = '.osv.config.';

const INOTIFY_FIX = 'raise the limit: sysctl fs.inotify.max_user_watches=524288 (and fs.inotify.max_user_instances), then osvd stop && osvd start';

/** Whether the watcher leaves this path out: in an ignored folder (see ignore.ts), or osv/config.ts's scratch file. */
export function isIgnored(rel: string, ignored: readonly string[]): boolean {
  return path.posix.basename(rel).startsWith(CONFIG_SCRATCH_PREFIX) || isUnder(rel, ignored);
}

/** The health's problem and fix when watching fails: the inotify limit, or anything else. */
export function watchFailure(err: NodeJS.ErrnoException): { problem: string; fix: string } {
  const limit = err.code === 'ENOSPC' || err.code === 'EMFILE';
  return {
    problem: limit ? `the file watcher hit the inotify limit (${err.code}); osvd scans the tree every few seconds instead` : `the file watcher failed (${err.code ?? err.message}); osvd scans the tree every few seconds instead`,
    fix: limit ? INOTIFY_FIX : 'osvd stop && osvd start',
  };
}

export function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}
