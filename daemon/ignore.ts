import path from 'node:path';

/**
 * The folders the daemon does not watch (build/, .git/, the config's `daemon.ignore`), as clean paths
 * relative to the root: `./docs/`, `docs` and `/abs/root/docs` are the same entry. The tree watcher
 * skips them and the live graph stats what actions read in them, so both must read one list the same way.
 */
export function ignoredFolders(root: string, entries: readonly string[]): string[] {
  const abs = path.resolve(root);
  return entries
    .map((p) => path.relative(abs, path.resolve(abs, p)).split(path.sep).join('/'))
    .filter((p) => p !== '' && !p.startsWith('..'));
}

/** Whether a path relative to the root lies in one of the folders (or is one). */
export function isUnder(rel: string, folders: readonly string[]): boolean {
  return folders.some((f) => rel === f || rel.startsWith(f + '/'));
}
