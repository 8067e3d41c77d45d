import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import type { FileHasher } from '../graph/traces.js';
import { appVersionScriptAction, appVersionScriptPath, exportedSymbolFiles } from './appKernel.js';
import { CONFIG_FILE, loadConfig, type OsvdConfig } from './config.js';
import { configSources } from './configSources.js';
import { ConfigError } from './errors.js';
import { gitScripts, gitStateFiles } from './gitState.js';
import { hidesSymbols, makeAssignments, parseSets, resolveKnobs, type Knobs, type KnobSource } from './knobs.js';
import { importBuild, type ImportStore } from './cachedImport.js';
import { configureBuildFolder, hasKconfig, kconfigAction, versionScriptAction } from './kconfig.js';
import { scriptText } from './recipes.js';
import { generatedHeadersFirst } from './generatedFirst.js';
import { kernelFileCopies } from './scriptsBuild.js';
import { kernelGoals, outDirOf, readTree, type TreeFacts } from './tree.js';
import { treeFolder } from './treeFolder.js';
import { baseEnvironment } from './passedEnv.js';

/** One OSv tree with its configuration, before knobs are chosen. */
export interface ProjectBase {
  readonly root: string;
  readonly configFile?: string;
  /** The config file and the modules of its folder it imports: editing one changes the config. */
  readonly configFiles: readonly string[];
  readonly config: OsvdConfig;
  readonly tree: TreeFacts;
  /** Absolute folder of the database, the store, the log and the daemon's socket. */
  readonly stateDir: string;
  readonly jobs: number;
  readonly baseEnv: Readonly<Record<string, string>>;
}

/** The tree with its effective knobs: what every build starts from. */
export interface Project extends ProjectBase {
  readonly knobs: Knobs;
  /** The build folder, relative to the root: build/<mode>.<arch>. */
  readonly outDir: string;
}

export interface ProjectOptions {
  readonly cwd: string;
  readonly root?: string;
  readonly config?: string;
  readonly jobs?: number;
}

/** Where the tree and its config are: `--config`, else `--root` or the tree's folder (treeFolder.ts) and its osv.config.ts. */
export function locateProject(opts: ProjectOptions): { configFile?: string; root?: string } {
  if (opts.config) {
    const configFile = path.resolve(opts.cwd, opts.config);
    if (!fs.existsSync(configFile)) throw new ConfigError('no such config file', { file: configFile });
    return { configFile, root: opts.root ? path.resolve(opts.cwd, opts.root) : undefined };
  }
  const dir = opts.root ? path.resolve(opts.cwd, opts.root) : treeFolder(opts.cwd);
  const candidate = path.join(dir, CONFIG_FILE);
  return { configFile: fs.existsSync(candidate) ? candidate : undefined, root: dir };
}

export async function openProjectBase(opts: ProjectOptions): Promise<ProjectBase> {
  const located = locateProject(opts);
  const configFile = located.configFile;
  const config = configFile ? await loadConfig(configFile) : {};
  // --root wins over the config's `root`; without --root a config's folder is the tree's unless it says otherwise.
  const root = opts.root || !configFile ? located.root! : path.resolve(path.dirname(configFile), config.root ?? '.');
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new ConfigError(`the tree's root is not a folder: ${root}`, { file: configFile, field: configFile ? 'root' : '--root' });
  }
  return {
    root,
    configFile,
    configFiles: configFile ? configSources(configFile).files : [],
    config,
    tree: readTree(root),
    stateDir: path.resolve(root, config.stateDir ?? 'build/.osvd'),
    jobs: opts.jobs ?? config.jobs ?? Math.max(1, os.availableParallelism()),
    baseEnv: baseEnvironment(process.env),
  };
}

/** Knobs: defaults, then osv.config.ts, then those set live (`osvd set`), then this command's `--set`. */
export function withKnobs(base: ProjectBase, live: Readonly<Record<string, string>>, sets: readonly string[] = []): Project {
  const sources: KnobSource[] = [];
  if (base.config.knobs) sources.push({ values: base.config.knobs, origin: { file: base.configFile, field: (n) => `knobs.${n}` } });
  if (Object.keys(live).length) sources.push({ values: live, origin: { field: (n) => `osvd set ${n}` } });
  if (sets.length) sources.push({ values: parseSets(sets), origin: { field: (n) => `--set ${n}` } });
  const knobs = resolveKnobs(sources, base.tree);
  return { ...base, knobs, outDir: outDirOf(knobs) };
}

export interface ProjectActions {
  readonly actions: Action[];
  readonly importCached: boolean;
  readonly importMs: number;
  /** The files the import depends on: the makefiles make read and the compilers' files (a change re-imports). */
  readonly makefiles: readonly string[];
  /**
   * The files make read while it parsed the Makefile (the makefiles, and the version script it greps),
   * with the hashes the import saw. An action that writes one of them runs before the import counts:
   * when it changes one, the import is done again (as make restarts after remaking a makefile).
   */
  readonly readWhileParsing: readonly (readonly [string, string])[];
  /** Depfiles make could not read (cut short by a crash), removed so that their compiles are redone. */
  readonly removedDepfiles: readonly string[];
}

/** The version script named by the knobs (an app's, or conf_version_script), relative to the root when inside it. */
function versionScriptSource(project: Project, extraVars: Readonly<Record<string, string>>): string | undefined {
  const named = extraVars.conf_version_script || project.knobs.conf_version_script;
  if (!named || !hidesSymbols(project.knobs)) return undefined;
  const rel = path.relative(project.root, path.resolve(project.root, named));
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(project.root, named) : rel;
}

/**
 * Actions that run git (OSv's version.h generator) read the repository's state: its files are inputs,
 * found on each load (not cached with the import), so the branch HEAD names now is the one read.
 */
function withGitState(root: string, actions: Action[]): Action[] {
  let state: string[] | undefined;
  return actions.map((a) => {
    const scripts = gitScripts(a, (w) => scriptText(root, w));
    if (!scripts) return a;
    state ??= gitStateFiles(root);
    return { ...a, inputs: [...new Set([...a.inputs, ...scripts, ...state])].sort() };
  });
}

/** What osvd builds: the config's targets, else OSv's kernel and its link chain, else make's default goal. */
export function buildGoals(project: Project): string[] {
  const targets = project.config.targets?.map((t) => t.replaceAll('$(out)', project.outDir));
  if (targets) return targets;
  return project.tree.isOsvKernel ? kernelGoals(project.knobs, project.outDir, project.tree) : [];
}

/** The project's actions: the imported Makefile, plus osvd's own (the app's version script). */
export async function projectActions(project: Project, files: FileHasher, imports: ImportStore): Promise<ProjectActions> {
  const { knobs, root, outDir } = project;
  const extraVars: Record<string, string> = { ...(project.config.makeVars ?? {}) };
  const own: Action[] = [];
  if (knobs.app) {
    const scriptPath = appVersionScriptPath(outDir);
    extraVars.conf_version_script = scriptPath;
    own.push(
      appVersionScriptAction({
        outDir,
        elfFiles: knobs.app,
        extraSymbols: knobs.app_extra_symbols,
        symbolFiles: exportedSymbolFiles(root, project.config.exportedSymbols ?? 'exported_symbols'),
        env: project.baseEnv,
      }),
    );
    // make's dry run needs the script to exist when the Makefile names it as a prerequisite.
    const abs = path.join(root, scriptPath);
    if (!fs.existsSync(abs)) {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, '');
    }
  }
  await configureBuildFolder({ root, outDir, mode: knobs.mode, arch: knobs.arch, env: project.baseEnv });
  const keyFile = versionScriptSource(project, extraVars);
  const keyHash = keyFile ? (files.hash(keyFile) ?? 'missing') : undefined;
  const imported = await importBuild(
    {
      root,
      vars: makeAssignments(knobs, project.tree, extraVars),
      goals: buildGoals(project),
      baseEnv: project.baseEnv,
      outDir,
      precompute: project.config.precompute ?? project.tree.precompute,
      keyFiles: versionScriptSource(project, extraVars) ? [versionScriptSource(project, extraVars)!] : [],
    },
    files,
    imports,
  );
  if (hasKconfig(root)) own.push(kconfigAction({ root, outDir, mode: knobs.mode, arch: knobs.arch, env: project.baseEnv }));
  // OSv's Makefile copies the version script while it is read; osvd makes the copy an action of its own.
  const versionScript = `${outDir}/version_script`;
  if (hidesSymbols(knobs) && project.tree.isOsvKernel && !imported.actions.some((a) => a.outputs.includes(versionScript))) {
    const source = versionScriptSource(project, extraVars) ?? `${outDir}/default_version_script`;
    own.push(versionScriptAction({ outDir, source, env: project.baseEnv }));
  }
  // What scripts/build copies into the build folder for the kernel's bootfs (fs=ramfs's fstab).
  let actions = generatedHeadersFirst(withGitState(root, imported.actions), outDir);
  if (project.tree.isOsvKernel) {
    for (const { action, reader } of kernelFileCopies(root, knobs, outDir, project.baseEnv)) {
      if (actions.some((a) => a.outputs.includes(action.outputs[0]!))) continue;
      own.push(action);
      actions = actions.map((a) => (a.id === reader ? { ...a, inputs: [...new Set([...a.inputs, ...action.outputs])].sort() } : a));
    }
  }
  return {
    actions: [...actions, ...own],
    importCached: imported.cached,
    importMs: imported.importMs,
    makefiles: [...imported.makefiles, ...(imported.tools ?? [])].map(([p]) => p),
    readWhileParsing: keyFile ? [...imported.makefiles, [keyFile, keyHash!] as const] : imported.makefiles,
    removedDepfiles: imported.removedDepfiles ?? [],
  };
}
