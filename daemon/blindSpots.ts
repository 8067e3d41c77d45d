import path from 'node:path';
import type { LivePlan } from '../graph/plan.js';
import { ignoredFolders, isUnder } from './ignore.js';
import { OutputWatcher } from './outputWatcher.js';
import type { LoadedGraph } from './session.js';
import type { TreeView } from './treeView.js';

/**
 * What the tree's view does not see and the plan depends on: the outputs (the tree watcher ignores
 * the build folder; an output watcher notes what changed in the outputs' folders, unless the view
 * sees outputs itself) and what actions read outside the watched tree (host headers, ignored folders).
 */
export class BlindSpots {
  private outputWatcher: OutputWatcher | undefined;

  /** `onOutputs`: told when the output watcher sees a change (see LiveGraph.outputsLater). */
  constructor(private readonly root: string, private readonly view: TreeView, private readonly onOutputs?: () => void) {}

  /** Watch the folders of the graph's outputs (before the plan looks at them, so no change is missed). */
  watchOutputs(loaded: LoadedGraph): void {
    if (this.view.seesOutputs) return;
    this.outputWatcher ??= new OutputWatcher(this.root, this.view.inotify, this.onOutputs);
    const outputs: string[] = [];
    for (const a of loaded.graph.actions.values()) for (const o of a.outputs) outputs.push(o);
    this.outputWatcher.track(outputs);
  }

  /** Which paths a plan of this graph reads that neither watcher reports: outside the tree, or in an ignored folder, and no action's output. */
  test(loaded: LoadedGraph): (p: string) => boolean {
    const ignored = ignoredFolders(this.root, this.view.sourceIgnores());
    const graph = loaded.graph;
    return (p) => (path.isAbsolute(p) || p.startsWith('..') || isUnder(p, ignored)) && !graph.producerOf(p);
  }

  /** The paths to check by stat now: outputs that may have changed since the last call, and every path the plan reads unwatched. */
  take(plan: LivePlan): string[] {
    const paths = this.takeOutputs();
    for (const p of plan.unwatchedReadPaths()) paths.push(p);
    return paths;
  }

  /** The outputs that may have changed since the last call (of this or take). */
  takeOutputs(): string[] {
    return this.outputWatcher?.takeChanged() ?? this.view.takeOutputChanges();
  }

  /** After a build: watch the outputs' folders that did not exist before it. */
  retry(): void {
    this.outputWatcher?.retry();
  }

  close(): void {
    this.outputWatcher?.close();
  }
}
