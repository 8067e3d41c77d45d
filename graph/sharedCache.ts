import type { Action, BuildContext } from './action.js';
import type { RunRecord } from './traces.js';

/**
 * Results kept outside this tree, by other builds (a team's cache server), under the local store.
 * The local OutputStore answers synchronously, from the disk; a shared cache answers over a network,
 * so the builder asks it only for an action that the local store cannot satisfy, and does not wait
 * for what it gives back.
 */
export interface SharedCache {
  /**
   * Look for a result of `action` (whose local key is `preKey`) made elsewhere. When one is found
   * whose discovered dependencies hash here as they did there, and every blob it names arrives intact,
   * it is made local (its blobs in the store, its trace among the traces) and `found` is true: the
   * rebuilder then finds it restorable. Never throws for the cache's sake: trouble is a miss.
   */
  fetch(action: Action, preKey: string, context: BuildContext): Promise<SharedAnswer>;
  /** `action` ran here and `run` was recorded: offer the result to others, in the background. */
  share(action: Action, run: RunRecord): void;
}

export interface SharedAnswer {
  readonly found: boolean;
  /**
   * When not found: the dependencies of a result that would match but for files that do not exist
   * here yet. Another machine's trace knows headers this build's graph may not (it has no last run
   * yet): when other actions of the build write them, the builder asks again.
   */
  readonly missing?: readonly string[];
}
