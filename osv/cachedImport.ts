import type { Action, ToolUse } from '../graph/action.js';
import { hashValue } from '../graph/hash.js';
import type { FileHasher } from '../graph/traces.js';
import type { ImportedBuild, ImportRequest } from './importRequest.js';
import { runImport } from './makeDryRun.js';

/** Where imports are kept between runs, by key (cache/importDb.ts in the daemon). */
export interface ImportStore {
  get(key: string): string | undefined;
  put(key: string, value: string): void;
}

const IMPORT_VERSION = 'osvd-import-14';

/**
 * The import, reused while the makefiles make read (and everything else it depends on) are unchanged.
 * Depfiles included by the Makefile are not part of the key: osvd reads depfiles itself.
 */
export async function importBuild(req: ImportRequest, files: FileHasher, imports: ImportStore): Promise<ImportedBuild & { cached: boolean }> {
  const slot = hashValue([IMPORT_VERSION, req.vars, req.goals, req.baseEnv, req.outDir, (req.keyFiles ?? []).map((f) => [f, files.hash(f) ?? 'missing'])]);
  const saved = imports.get(slot);
  if (saved) {
    const previous = unpackImport(JSON.parse(saved) as SavedImport);
    // A new compiler at the same path may name other include folders (CXX_INCLUDES) and run other
    // programs: the import is redone, as for an edited makefile.
    const unchanged = ([p, h]: readonly [string, string]): boolean => files.hash(p) === h;
    if (previous.makefiles.every(unchanged) && (previous.tools ?? []).every(unchanged)) return { ...previous, cached: true };
  }
  const fresh = await runImport(req, files);
  imports.put(slot, JSON.stringify(packImport(fresh)));
  return { ...fresh, actions: withSharedTools(fresh.actions), cached: false };
}

/**
 * An import as cached: each distinct environment once, the actions naming theirs by index. Every
 * action of an import shares make's environment: written out per action, it made half of what the
 * cache held.
 */
interface SavedImport extends Omit<ImportedBuild, 'actions' | 'removedDepfiles'> {
  readonly environments: readonly Readonly<Record<string, string>>[];
  readonly actions: readonly (Omit<Action, 'env' | 'keyEnv'> & { readonly env: number; readonly keyEnv: number })[];
}

function packImport(build: ImportedBuild): SavedImport {
  const environments: Readonly<Record<string, string>>[] = [];
  const byObject = new Map<Readonly<Record<string, string>>, number>();
  const byText = new Map<string, number>();
  const indexOf = (env: Readonly<Record<string, string>>): number => {
    let i = byObject.get(env);
    if (i === undefined) {
      const text = JSON.stringify(env);
      i = byText.get(text);
      if (i === undefined) byText.set(text, (i = environments.push(env) - 1));
      byObject.set(env, i);
    }
    return i;
  };
  const { removedDepfiles: _, actions, ...rest } = build;
  return { ...rest, environments, actions: actions.map((a) => ({ ...a, env: indexOf(a.env), keyEnv: indexOf(a.keyEnv) })) };
}

/**
 * The cached import, its actions sharing their environments again, and their paths: decoded from
 * JSON, each action's name, output, depfile, source and order-only prerequisites would be strings of
 * their own (the same phony name 10,000 times over), which the daemon keeps for its lifetime.
 */
function unpackImport(saved: SavedImport): ImportedBuild {
  const { environments, actions, ...rest } = saved;
  const pool = new Map<string, string>();
  const one = (s: string): string => {
    const known = pool.get(s);
    if (known !== undefined) return known;
    pool.set(s, s);
    return s;
  };
  const many = (list: readonly string[]): string[] => list.map(one);
  // Every compile of one compiler runs it the same way: one ToolUse, one recipe suffix, one empty list.
  const tool = toolPool((t) => ({ ...t, files: many(t.files) }));
  return {
    ...rest,
    actions: actions.map((a) => ({
      ...a,
      id: one(a.id),
      inputs: many(a.inputs),
      outputs: many(a.outputs),
      orderAfter: a.orderAfter.length ? many(a.orderAfter) : NONE,
      ...(a.tracedInputs !== undefined ? { tracedInputs: many(a.tracedInputs) } : {}),
      ...(a.depfile !== undefined ? { depfile: one(a.depfile) } : {}),
      ...(a.source !== undefined ? { source: one(a.source) } : {}),
      ...(a.tool !== undefined ? { tool: tool(a.tool) } : {}),
      ...(a.preprocess !== undefined ? { preprocess: { ...a.preprocess, append: one(a.preprocess.append), ...(a.preprocess.refuseIf !== undefined ? { refuseIf: one(a.preprocess.refuseIf) } : {}) } } : {}),
      env: environments[a.env]!,
      keyEnv: environments[a.keyEnv]!,
    })),
  };
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * One ToolUse object for every action that runs the same program named at the same place in its
 * command (all of a compiler's compiles, as a rule): each its own took 5 MB at 50,000 TUs. `first`
 * makes the one kept from the first seen.
 */
function toolPool(first: (t: ToolUse) => ToolUse = (t) => t): (t: ToolUse) => ToolUse {
  const tools = new Map<string, ToolUse>();
  return (t) => {
    const key = `${t.command}:${t.name.join(',')}:${t.files.join('\n')}`;
    let kept = tools.get(key);
    if (kept === undefined) tools.set(key, (kept = first(t)));
    return kept;
  };
}

function withSharedTools(actions: readonly Action[]): Action[] {
  const tool = toolPool();
  return actions.map((a) => (a.tool === undefined || tool(a.tool) === a.tool ? a : { ...a, tool: tool(a.tool) }));
}
