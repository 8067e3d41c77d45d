import path from 'node:path';

/**
 * Paths in the graph are relative to the tree's root when they lie inside it, absolute otherwise.
 * `cwd` is the folder (relative to the root) a tool ran in, for paths the tool printed relative to it.
 */
export function treePath(root: string, cwd: string, p: string): string {
  // The common cases without path.resolve (a depfile names ~20 headers, and each is resolved after
  // every compile): a clean relative path from the root, or a clean absolute one.
  if (isClean(p)) {
    if (p.charCodeAt(0) !== SLASH) {
      if (cwd === '.' || cwd === '') return p;
    } else if (isCleanRoot(root)) {
      if (!p.startsWith(root)) return p;
      if (p.charCodeAt(root.length) === SLASH) return p.slice(root.length + 1);
      if (p.length > root.length) return p;
    }
  }
  const abs = path.resolve(root, cwd, p);
  const rel = path.relative(root, abs);
  if (rel === '') return '.';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  return rel;
}

const SLASH = 47;

/** A path with no empty, `.` or `..` part and no trailing slash: path.resolve would leave it as it is. */
function isClean(p: string): boolean {
  return p.length > 0 && !UNCLEAN.test(p);
}

const UNCLEAN = /(^|\/)\.\.?(\/|$)|\/\/|.\/$/;

/** `root` joined with a tree path (see treePath), as path.resolve would give it, for clean paths without its cost. */
export function absoluteIn(root: string, p: string): string {
  if (p.charCodeAt(0) === SLASH) return isClean(p) ? p : path.resolve(p);
  return isClean(p) && isCleanRoot(root) ? `${root}/${p}` : path.resolve(root, p);
}

/** An absolute root other than `/` that path.resolve would leave as it is. */
function isCleanRoot(root: string): boolean {
  return root.length > 1 && root.charCodeAt(0) === SLASH && isClean(root);
}
