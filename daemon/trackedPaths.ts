import path from 'node:path';
import type { FileState } from '../cache/fileState.js';
import type { LivePlan } from '../graph/plan.js';
import type { LoadedGraph } from './session.js';

/**
 * Every path the live plan depends on, each once: what its actions read (declared inputs and the
 * headers of their last depfiles, host headers included), their outputs, the makefiles make read and
 * the config's files. A change anywhere else cannot change what a build does (as for a one-shot build,
 * which looks at the same paths).
 */
export function* trackedPaths(loaded: LoadedGraph, plan: LivePlan, configFiles: readonly string[]): Generator<string> {
  yield* plan.readPaths();
  for (const a of loaded.graph.actions.values()) for (const o of a.outputs) if (!plan.isRead(o)) yield o;
  for (const m of loaded.makefiles) if (!plan.isRead(m)) yield m;
  // osv.config.ts and the modules of its folder it imports.
  for (const f of configFiles) {
    const rel = path.relative(loaded.project.root, f);
    if (!plan.isRead(rel)) yield rel;
  }
}

/** Paths stat'ed between two yields to the event loop, so that requests are answered during a check. */
const CHUNK = 4096;

/**
 * The paths whose stat differs from the one the daemon saw when it last looked at them (or that it
 * has not looked at since they were last invalidated): one lstat each, in chunks.
 */
export async function changedPaths(files: FileState, paths: Iterable<string>): Promise<{ changed: string[]; checked: number }> {
  const changed: string[] = [];
  let chunk: string[] = [];
  let checked = 0;
  for (const p of paths) {
    chunk.push(p);
    if (chunk.length === CHUNK) {
      for (const c of files.changedSince(chunk)) changed.push(c);
      checked += chunk.length;
      chunk = [];
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  for (const c of files.changedSince(chunk)) changed.push(c);
  return { changed, checked: checked + chunk.length };
}
