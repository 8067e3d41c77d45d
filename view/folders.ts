/**
 * Grouping by folder, for pictures with too many nodes to read: an OSv kernel has 1,180 compiles
 * (musl alone 579) and one link that reads them all. Compiles (and changed files) are grouped by their
 * folder cut to a depth, the deepest depth at which the picture fits.
 */

export interface Groupable {
  /** Items of different spaces never share a group (compiles, changed files). */
  readonly space: string;
  readonly folder: string;
}

/** The first `depth` components of a folder ('' at depth 0: one group for everything). */
export function folderAt(folder: string, depth: number): string {
  if (folder === '.') return '.';
  const absolute = folder.startsWith('/');
  const parts = folder.split('/').filter(Boolean).slice(0, depth);
  return (absolute ? '/' : '') + parts.join('/');
}

/**
 * The depth to group at so that `fixed` nodes plus the groups are at most `maxNodes`; undefined when
 * every item fits as a node of its own; 0 (one group per space) when nothing deeper fits.
 */
export function groupingDepth(fixed: number, items: readonly Groupable[], maxNodes: number): number | undefined {
  if (fixed + items.length <= maxNodes) return undefined;
  const deepest = Math.max(0, ...items.map((i) => i.folder.split('/').filter(Boolean).length));
  for (let depth = deepest; depth > 0; depth--) {
    const groups = new Set(items.map((i) => `${i.space}\n${folderAt(i.folder, depth)}`));
    if (fixed + groups.size <= maxNodes) return depth;
  }
  return 0;
}
