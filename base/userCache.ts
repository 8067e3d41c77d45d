import os from 'node:os';
import path from 'node:path';

/** The user's cache folder for osvd (`$XDG_CACHE_HOME/osvd`, else `~/.cache/osvd`): what outlives a build folder. */
export function userCacheDir(): string {
  return process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'osvd') : path.join(os.homedir(), '.cache', 'osvd');
}
