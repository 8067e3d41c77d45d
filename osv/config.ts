import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONFIG_MODULE, packageRoot } from '../base/packageFiles.js';
import { cacheConfigProblem, type CacheConfig } from './cacheConfig.js';
import { readConfigCache, sourceStamps, writeConfigCache } from './configCache.js';
import { distributeProblem, type DistributeConfig } from './distributeConfig.js';
import { ConfigError } from './errors.js';
import { CONFIG_FILE_NAME } from './treeFolder.js';
import type { KnobSettings } from './knobs.js';

export type { KnobSettings, KnobValue } from './knobs.js';
export type { DistributeConfig } from './distributeConfig.js';
export type { CacheConfig } from './cacheConfig.js';

/** The configuration of one OSv tree, written as `export default defineConfig({...})` in osv.config.ts. */
export interface OsvdConfig {
  /** The tree's root, relative to the config file (default: the config file's folder). */
  root?: string;
  /** Knob values (OSv's make variables), overridden by `--set`. */
  knobs?: KnobSettings;
  /** Further variables passed to make as they are, e.g. a precomputed CXX_INCLUDES. */
  makeVars?: Record<string, string>;
  /** Make goals to import; `$(out)` stands for the build folder (default: OSv's kernel and link chain, else make's default goal). */
  targets?: string[];
  /** Variables make recomputes with `$(shell ...)` on every use, expanded once per import (default: CXX_INCLUDES when the Makefile defines it so). */
  precompute?: string[];
  /** Parallel jobs (default: the number of cores). */
  jobs?: number;
  /** Where osvd keeps its database and store, relative to the root (default: build/.osvd). */
  stateDir?: string;
  store?: { maxBytes?: number };
  /** Where the kernel's exported symbol lists are, for app-specific kernels (relative to the root). */
  exportedSymbols?: string;
  /** The daemon (`osvd start`). */
  daemon?: DaemonConfig;
  /**
   * Before compiling a TU whose headers alone changed, preprocess it and keep its object when the output
   * is the one it was built from: `auto` (default) for compiles that take at least twice as long as their
   * preprocessing, `always`, or `never`.
   */
  preprocess?: 'auto' | 'always' | 'never';
  /** Compiles on other machines (distcc, icecc); false: not even with DISTCC_HOSTS set. */
  distribute?: DistributeConfig | false;
  /** A shared cache (bazel-remote's HTTP layout); the OSVD_CACHE_* variables override it. */
  cache?: CacheConfig;
}

export interface DaemonConfig {
  /** Build by itself after changes (default false). */
  autoBuild?: boolean;
  /** Quiet period after the last change before an automatic build, in ms (default 300). */
  quietMs?: number;
  /** More paths (relative to the root) the watcher ignores; build/ and .git/ always are. */
  ignore?: string[];
  /** Interval of the stat scans that replace the watcher when it cannot work, in ms (default 2000). */
  pollMs?: number;
  /** How the tree is watched: watchman when it is installed (`auto`, the default), or always `watchman` or `folders`. */
  watcher?: 'auto' | 'watchman' | 'folders';
}

export function defineConfig(config: OsvdConfig): OsvdConfig {
  return config;
}

export const CONFIG_FILE = CONFIG_FILE_NAME;

const FIELDS: Record<keyof OsvdConfig, (v: unknown) => string | undefined> = {
  root: (v) => (typeof v === 'string' ? undefined : 'must be a string (a folder)'),
  knobs: (v) => (isRecord(v) && Object.values(v).every((x) => ['string', 'number', 'boolean'].includes(typeof x)) ? undefined : 'must be an object of strings, numbers or booleans'),
  makeVars: (v) => (isRecord(v) && Object.values(v).every((x) => typeof x === 'string') ? undefined : 'must be an object of strings'),
  targets: (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be a list of strings'),
  precompute: (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string' && /^[A-Za-z_][\w.-]*$/.test(x)) ? undefined : 'must be a list of make variable names'),
  jobs: (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a whole number above 0'),
  stateDir: (v) => (typeof v === 'string' && v !== '' ? undefined : 'must be a folder path'),
  store: (v) =>
    isRecord(v) && Object.keys(v).every((k) => k === 'maxBytes') && (v.maxBytes === undefined || (Number.isInteger(v.maxBytes) && (v.maxBytes as number) >= 0))
      ? undefined
      : 'must be { maxBytes?: number }',
  exportedSymbols: (v) => (typeof v === 'string' ? undefined : 'must be a folder path'),
  preprocess: (v) => (v === 'auto' || v === 'always' || v === 'never' ? undefined : "must be 'auto', 'always' or 'never'"),
  daemon: (v) => {
    if (!isRecord(v)) return 'must be an object';
    for (const [k, x] of Object.entries(v)) {
      if (k === 'autoBuild' && typeof x !== 'boolean') return `'daemon.autoBuild' must be true or false`;
      if ((k === 'quietMs' || k === 'pollMs') && !(Number.isInteger(x) && (x as number) >= 0)) return `'daemon.${k}' must be a whole number of milliseconds`;
      if (k === 'ignore' && !(Array.isArray(x) && x.every((i) => typeof i === 'string'))) return `'daemon.ignore' must be a list of paths`;
      if (k === 'watcher' && !['auto', 'watchman', 'folders'].includes(x as string)) return `'daemon.watcher' must be 'auto', 'watchman' or 'folders'`;
      if (!['autoBuild', 'quietMs', 'ignore', 'pollMs', 'watcher'].includes(k)) return `has an unknown field '${k}' (known: autoBuild, quietMs, ignore, pollMs, watcher)`;
    }
    return undefined;
  },
  distribute: distributeProblem,
  cache: cacheConfigProblem,
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check a config object field by field; errors name the file and the field. */
export function validateConfig(value: unknown, file: string): OsvdConfig {
  if (!isRecord(value)) throw new ConfigError('the default export must be an object: export default defineConfig({ ... })', { file });
  for (const [field, v] of Object.entries(value)) {
    // Own fields only: 'constructor' or 'toString' must not find Object's methods.
    const check = Object.hasOwn(FIELDS, field) ? FIELDS[field as keyof OsvdConfig] : undefined;
    if (!check) {
      throw new ConfigError(`unknown field '${field}'`, { file, field, hint: `known fields: ${Object.keys(FIELDS).join(', ')}` });
    }
    if (v === undefined) continue;
    const problem = check(v);
    if (problem) throw new ConfigError(`'${field}' ${problem}`, { file, field });
  }
  return value as OsvdConfig;
}

/**
 * Load osv.config.ts: transpile it with TypeScript's compiler API, point its `osvd` import at this
 * module, import it from a temporary file next to it (so relative imports still work), validate it.
 */
export async function loadConfig(file: string): Promise<OsvdConfig> {
  const cached = readConfigCache(file);
  if (cached !== undefined) return validateConfig(cached, file);
  const stamps = sourceStamps(file);
  const config = await transpileAndImport(file);
  writeConfigCache(file, config, stamps);
  return config;
}

async function transpileAndImport(file: string): Promise<OsvdConfig> {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config file: ${(err as Error).message}`, { file, cause: err });
  }
  // Most configs are JavaScript as they stand (`export default defineConfig({...})`): run them as they
  // are. A module's syntax is checked before any of it runs, so one that is not JavaScript (type
  // annotations) fails without side effects, and only then is TypeScript (half a second to load) used.
  let mod = await importModule(file, pointAtSelf(source), true);
  if (mod === undefined) {
    const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
    const out = ts.transpileModule(source, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    });
    const syntax = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
    if (syntax) {
      const pos = syntax.file && syntax.start !== undefined ? syntax.file.getLineAndCharacterOfPosition(syntax.start) : undefined;
      const where = pos ? `line ${pos.line + 1}, column ${pos.character + 1}: ` : '';
      throw new ConfigError(`syntax error: ${where}${ts.flattenDiagnosticMessageText(syntax.messageText, '\n')}`, { file });
    }
    mod = await importModule(file, pointAtSelf(out.outputText), false);
  }
  return validateConfig(mod!.default, file);
}

/**
 * The config's `osvd` import, pointed at this module. Its relative imports get a query of this load:
 * a process that reads the config again (the daemon) gets them afresh, not as first imported.
 */
function pointAtSelf(js: string): string {
  const self = pathToFileURL(selfModule()).href;
  const fresh = `?osvd-load=${Date.now()}.${loads}`;
  return js
    .replace(/(from\s*|import\s*\(\s*)(['"])osvd(?:\/config)?\2/g, `$1$2${self}$2`)
    .replace(/(from\s*|import\s*\(\s*|import\s*)(['"])(\.\.?\/[^'"?]+)\2/g, `$1$2$3${fresh}$2`);
}

/**
 * This module as a config can import it: itself when it runs as tsc wrote it (or as vitest loads its
 * source); from the bundle, whose chunks export under other names, tsc's copy in dist/ (defineConfig
 * only returns its argument, so a second copy of it changes nothing).
 */
function selfModule(): string {
  const here = fileURLToPath(import.meta.url);
  return /^config\.[jt]s$/.test(path.basename(here)) ? here : path.join(packageRoot(), CONFIG_MODULE);
}

/**
 * Import JavaScript from a temporary file next to the config (so that relative imports still work).
 * `tryOnly`: a syntax error gives undefined instead of an error.
 */
let loads = 0;

async function importModule(file: string, js: string, tryOnly: boolean): Promise<{ default?: unknown } | undefined> {
  removeLeftovers(path.dirname(file));
  const tmp = path.join(path.dirname(file), `.osv.config.${process.pid}.${Date.now() + loads++}.mjs`);
  fs.writeFileSync(tmp, js);
  try {
    return (await import(pathToFileURL(tmp).href)) as { default?: unknown };
  } catch (err) {
    if (tryOnly && err instanceof SyntaxError) return undefined;
    throw new ConfigError(`the config file failed to load: ${(err as Error).message}`, { file, cause: err });
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The transpiled config of a process killed while loading it stays next to osv.config.ts: remove it. */
function removeLeftovers(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^\.osv\.config\.\d+\.\d+\.mjs$/.test(n));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('.')[3]);
    try {
      process.kill(pid, 0);
      continue; // its process still runs (or is not ours to judge)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    fs.rmSync(path.join(dir, name), { force: true });
  }
}
