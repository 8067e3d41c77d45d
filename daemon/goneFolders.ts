import path from 'node:path';

/**
 * The tree watcher reports a folder that went away (deleted, moved out) as `dir/`, without the files
 * that were in it: these are the known paths under such folders, in place of the folders.
 */
export function expandGoneFolders(changes: string[], known: Iterable<string>[]): string[] {
  const gone = new Set(changes.filter((p) => p.endsWith('/')).map((p) => p.slice(0, -1)));
  if (gone.size === 0) return changes;
  const paths = new Set(changes.filter((p) => !p.endsWith('/')));
  for (const list of known) {
    for (const p of list) {
      for (let dir = path.posix.dirname(p); dir !== '.' && dir !== '/'; dir = path.posix.dirname(dir)) {
        if (gone.has(dir)) {
          paths.add(p);
          break;
        }
      }
    }
  }
  return [...paths];
}
