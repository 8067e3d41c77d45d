import type { Action } from '../graph/action.js';

/**
 * What importing the tree's own Makefile is asked and what it gives, shared by the make runs
 * (makeDryRun.ts), the reading of their output into actions (makeActions.ts) and the cache of
 * imports (cachedImport.ts).
 */

export interface ImportRequest {
  readonly root: string;
  /** Variables for make's command line (knobs and extra make variables). */
  readonly vars: Readonly<Record<string, string>>;
  readonly goals: readonly string[];
  /** The environment make runs with (and the actions after it). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The build folder, relative to the root (build/<mode>.<arch>). */
  readonly outDir: string;
  /**
   * Variables make computes with `$(shell ...)` on every expansion (OSv's CXX_INCLUDES runs the compiler
   * once per command): expanded once, then passed to make as fixed values.
   */
  readonly precompute?: readonly string[];
  /** Files make reads while it parses the Makefile, beyond the makefiles (OSv greps the version script for iconv). */
  readonly keyFiles?: readonly string[];
}

export interface ImportedBuild {
  readonly actions: Action[];
  /** The makefiles make read, relative to the root, with the hashes they had. */
  readonly makefiles: readonly (readonly [string, string])[];
  /** The compilers' files (see compilerIdentity.ts), with their hashes: the import is redone when one changes. */
  readonly tools: readonly (readonly [string, string])[];
  /** Variables make exports to recipes (beyond the base environment). */
  readonly exported: Readonly<Record<string, string>>;
  readonly importMs: number;
  /** Depfiles make could not read (a crash cut them short): removed, so their compiles are redone. */
  readonly removedDepfiles?: readonly string[];
}

/** `NAME=value` words for make's command line. */
export function variableAssignments(vars: Readonly<Record<string, string>>): string[] {
  return Object.entries(vars).map(([k, v]) => `${k}=${v}`);
}

export function makeCommandLine(req: ImportRequest): string[] {
  return [...variableAssignments(req.vars), ...req.goals];
}
