import path from 'node:path';

/**
 * Paths in the graph are relative to the tree's root when they lie inside it, absolute otherwise.
 * `cwd` is the folder (relative to the root) a tool ran in, for paths the tool printed relative to it.
 */
export function treePath(root: string, cwd: string, p: string): string {
  const abs = path.resolve(root, cwd, p);
  const rel = path.relative(root, abs);
  if (rel === '') return '.';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  return rel;
}
