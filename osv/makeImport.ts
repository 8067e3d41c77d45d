import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import { ToolMissingError } from '../base/errors.js';
import { hashValue } from '../graph/hash.js';
import { parseDepfile } from '../graph/depfile.js';
import { treePath } from '../graph/paths.js';
import type { FileHasher } from '../graph/traces.js';
import { ImportError } from './errors.js';
import { buildPathVariables, DryRunParser, lateVariables, parseEnv0, refersTo, type MakeDatabase, type RuleEntry, type TracedTarget } from './makeOutput.js';
import { envReadBy, fileLikeWords, recipeFacts, type RecipeFacts } from './recipes.js';

/**
 * Turn the tree's own Makefile into actions by asking GNU make what it would run:
 * `make -p -n -B --trace V=1 <knobs> <goals>` prints every recipe with its target, then make's
 * database (prerequisites, phony targets, the makefiles it read). A second make run prints the
 * environment make exports to recipes. The commands of the actions are exactly make's.
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
  /** Variables make exports to recipes (beyond the base environment). */
  readonly exported: Readonly<Record<string, string>>;
  readonly importMs: number;
  /** Depfiles make could not read (a crash cut them short): removed, so their compiles are redone. */
  readonly removedDepfiles?: readonly string[];
}

/** Where imports are kept between runs, by key (cache/importDb.ts in the daemon). */
export interface ImportStore {
  get(key: string): string | undefined;
  put(key: string, value: string): void;
}

const IMPORT_VERSION = 'osvd-import-7';
/** make's own bookkeeping variables: never part of what an action reads. */
const MAKE_BOOKKEEPING = new Set(['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'MAKE_TERMOUT', 'MAKE_TERMERR', 'MAKE_RESTARTS', 'PWD', 'OLDPWD', 'SHLVL', '_']);
const ENV_TARGET = '__osvd_print_env';
/** The environment compiles and links read: shared by all of them. */
const NO_ENV: Readonly<Record<string, string>> = Object.freeze({});

function assignments(vars: Readonly<Record<string, string>>): string[] {
  return Object.entries(vars).map(([k, v]) => `${k}=${v}`);
}

export function makeCommandLine(req: ImportRequest): string[] {
  return [...assignments(req.vars), ...req.goals];
}

/**
 * The import, reused while the makefiles make read (and everything else it depends on) are unchanged.
 * Depfiles included by the Makefile are not part of the key: osvd reads depfiles itself.
 */
export async function importBuild(req: ImportRequest, files: FileHasher, imports: ImportStore): Promise<ImportedBuild & { cached: boolean }> {
  const slot = hashValue([IMPORT_VERSION, req.vars, req.goals, req.baseEnv, req.outDir, (req.keyFiles ?? []).map((f) => [f, files.hash(f) ?? 'missing'])]);
  const saved = imports.get(slot);
  if (saved) {
    const previous = unpackImport(JSON.parse(saved) as SavedImport);
    if (previous.makefiles.every(([p, h]) => files.hash(p) === h)) return { ...previous, cached: true };
  }
  const fresh = await runImport(req, files);
  imports.put(slot, JSON.stringify(packImport(fresh)));
  return { ...fresh, cached: false };
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
  return {
    ...rest,
    actions: actions.map((a) => ({
      ...a,
      id: one(a.id),
      inputs: many(a.inputs),
      outputs: many(a.outputs),
      orderAfter: many(a.orderAfter),
      ...(a.depfile !== undefined ? { depfile: one(a.depfile) } : {}),
      ...(a.source !== undefined ? { source: one(a.source) } : {}),
      env: environments[a.env]!,
      keyEnv: environments[a.keyEnv]!,
    })),
  };
}

export async function runImport(req: ImportRequest, files: FileHasher): Promise<ImportedBuild> {
  const started = performance.now();
  const removed = new Set<string>();
  /** Run make; a depfile a killed compiler half-wrote stops make (the Makefile includes them): remove it and retry. */
  const runRepairing = async (args: readonly string[], stdoutTo?: () => (chunk: Buffer) => void): Promise<MakeRun> => {
    for (;;) {
      const run = await runMake(req.root, args, req.baseEnv, stdoutTo?.());
      // osvd reads depfiles itself and the depfile is an output of its compile: without it, the
      // compile is restored or reruns.
      const bad = run.code !== 0 ? brokenDepfile(req, run.stderr) : undefined;
      if (bad === undefined || removed.has(bad) || removed.size >= 1000) return run;
      removed.add(bad);
      fs.rmSync(path.resolve(req.root, bad), { force: true });
    }
  };
  // make's $(file >name,...) takes the name literally (no shell quoting): keep it to plain characters.
  const tmp = fs.mkdtempSync(path.join(/^[\w./-]+$/.test(os.tmpdir()) ? os.tmpdir() : '/tmp', 'osvd-import-'));
  let env: Record<string, string>;
  const precomputed: Record<string, string> = {};
  // The environment run goes first, alone: parsing the Makefile may have side effects (OSv's bootstraps
  // Kconfig when the build folder has no configuration yet), which must not race with the dry run.
  // It also expands, once, the variables worth precomputing.
  try {
    const envFile = path.join(tmp, 'env');
    const wanted = (req.precompute ?? []).filter((v) => req.vars[v] === undefined);
    const prints = wanted.map((v, i) => `$(file >${path.join(tmp, `var${i}`)},$(${v}))`).join('');
    const envRun = await runRepairing([...assignments(req.vars), '--eval', `${ENV_TARGET}: ; @env -0 > ${makeQuote(envFile)}${prints}`, ENV_TARGET]);
    if (envRun.code !== 0) throw makeFailed(req, makeCommandLine(req), envRun.stderr);
    env = parseEnv0(fs.readFileSync(envFile, 'utf8'));
    wanted.forEach((v, i) => {
      precomputed[v] = fs.readFileSync(path.join(tmp, `var${i}`), 'utf8').replace(/\n$/, '');
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const full: ImportRequest = { ...req, vars: { ...req.vars, ...precomputed } };
  const cmdline = makeCommandLine(full);
  // make's output grows with every TU and is parsed as it arrives: a new parser for each attempt.
  let parser = new DryRunParser();
  const dry = await runRepairing(['-p', '-n', '-B', '--trace', 'V=1', ...cmdline], () => {
    parser = new DryRunParser();
    return (chunk) => parser.push(chunk);
  });
  if (dry.code !== 0) throw makeFailed(req, cmdline, dry.stderr);
  const { traced, db } = parser.end();
  const exported: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (req.baseEnv[k] !== v && !MAKE_BOOKKEEPING.has(k)) exported[k] = v;
  }
  if (db.rules.size === 0) throw new ImportError('make printed no database: is this GNU make?', { file: path.join(req.root, 'Makefile') });
  const actions = actionsFrom(full, traced, db, env, exported);
  const outPrefix = req.outDir + '/';
  const makefiles = db.makefiles
    .map((m) => treePath(req.root, '.', m))
    .filter((m) => !(m.startsWith(outPrefix) && m.endsWith('.d')))
    .map((m) => [m, files.hash(m) ?? 'missing'] as const);
  return { actions, makefiles, exported, importMs: performance.now() - started, ...(removed.size ? { removedDepfiles: [...removed] } : {}) };
}

/** A depfile of the build folder that make could not read, from make's message (`x.d:3: *** missing separator`). */
function brokenDepfile(req: Pick<ImportRequest, 'root' | 'outDir'>, stderr: string): string | undefined {
  for (const m of stderr.matchAll(/^(.+?\.d):\d+: \*\*\* /gm)) {
    const p = treePath(req.root, '.', m[1]!);
    if (p.startsWith(req.outDir + '/') && !path.isAbsolute(p)) return p;
  }
  return undefined;
}

/** A path inside a make recipe: quoted for the shell, with make's `$` doubled (TMPDIR may hold anything). */
function makeQuote(p: string): string {
  return `'${p.replace(/'/g, `'\\''`).replace(/\$/g, '$$$$')}'`;
}

function makeFailed(req: ImportRequest, cmdline: readonly string[], stderr: string): ImportError {
  const message = stderr.trim().split('\n').slice(-6).join('\n') || 'make failed without a message';
  return new ImportError(`make rejected the build (make ${cmdline.join(' ')}):\n${message}`, { file: path.join(req.root, 'Makefile') });
}

interface MakeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run make; its stdout goes to `onStdout` chunk by chunk when given (and is not kept), else into `stdout`. */
function runMake(cwd: string, args: readonly string[], env: Readonly<Record<string, string>>, onStdout?: (chunk: Buffer) => void): Promise<MakeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('make', args, { cwd, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failed: unknown;
    child.stdout.on('data', (b: Buffer) => {
      if (!onStdout) return void out.push(b);
      if (failed !== undefined) return;
      try {
        onStdout(b);
      } catch (e) {
        failed = e;
        child.kill();
      }
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new ToolMissingError('make', { cause: e }) : e));
    child.on('close', (code) => {
      if (failed !== undefined) reject(failed instanceof Error ? failed : new ImportError(`reading make's output failed: ${String(failed)}`));
      else resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Build actions from the traced recipes and make's database. */
export function actionsFrom(
  req: Pick<ImportRequest, 'root' | 'outDir' | 'vars'>,
  traced: readonly TracedTarget[],
  db: MakeDatabase,
  env: Readonly<Record<string, string>>,
  exported: Readonly<Record<string, string>>,
): Action[] {
  const root = req.root;
  const buildRoot = req.outDir.split('/')[0]! + '/';
  const withRecipe = traced.filter((t) => t.recipe.length > 0);
  const recipeTargets = new Set(withRecipe.map((t) => t.target));
  const isPhony = (t: string): boolean => db.rules.get(t)?.phony ?? false;
  const inBuild = buildPathVariables(db);
  const late = lateVariables(db, inBuild);
  // The same words (include folders, the compiler, forced headers) come back in every compile: resolve
  // and stat each once per import (50,000 compiles name a few hundred thousand words, mostly repeated).
  const resolved = new Map<string, string>();
  const inTree = (w: string): string => {
    let p = resolved.get(w);
    if (p === undefined) resolved.set(w, (p = treePath(root, '.', w)));
    return p;
  };
  const regular = new Map<string, boolean>();
  const isFile = (p: string): boolean => {
    let known = regular.get(p);
    if (known === undefined) regular.set(p, (known = isRegularFile(root, p)));
    return known;
  };

  // First pass: outputs, so that inputs can be told apart from outputs of other actions. What it reads
  // out of each recipe is kept for the second pass.
  const outputsOf = new Map<string, string[]>();
  const recipeOf = new Map<string, { facts: RecipeFacts; words: Set<string>; depfile: string | undefined }>();
  const producer = new Map<string, string>();
  for (const t of withRecipe) {
    const words = new Set(fileLikeWords(t.recipe).map(inTree));
    let outputs: string[];
    if (isPhony(t.target)) {
      outputs = [...words].filter((p) => p.startsWith(buildRoot) && !recipeTargets.has(p));
      // `mkdir -p dir && gen > dir/file`: the folder is not what the action is for.
      outputs = outputs.filter((p) => !outputs.some((q) => q.startsWith(p + '/')));
    } else {
      outputs = [inTree(t.target)];
    }
    // A depfile makes the recipe a compile, whose kind does not depend on the outputs given here.
    const facts = recipeFacts(t.recipe, outputs);
    const depfile = facts.depfile && !unpreprocessedSource(t.recipe) ? inTree(facts.depfile) : undefined;
    if (depfile) outputs.push(depfile);
    outputs = [...new Set(outputs)];
    outputsOf.set(t.target, outputs);
    recipeOf.set(t.target, { facts, words, depfile });
    for (const o of outputs) if (!producer.has(o)) producer.set(o, t.target);
  }

  /** Actions reached through a phony or recipe-less prerequisite, for ordering. */
  const resolveOrder = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    if (recipeTargets.has(name)) return [name];
    const rule: RuleEntry | undefined = db.rules.get(name);
    if (!rule) return [];
    return [...rule.prereqs, ...rule.orderOnly].flatMap((p) => resolveOrder(p, seen));
  };

  const actions: Action[] = [];
  for (const t of withRecipe) {
    const outputs = outputsOf.get(t.target)!;
    const { facts, words, depfile } = recipeOf.get(t.target)!;
    const rule = db.rules.get(t.target);
    // Headers the Makefile learned from an existing depfile are not declared inputs: osvd reads the
    // depfile itself, and the import must not depend on whether one existed when it ran.
    const fromDepfile = depfile ? depfileNames(root, depfile) : new Set<string>();
    const inputs = new Set<string>();
    const orderAfter = new Set<string>();
    for (const raw of rule?.prereqs ?? []) {
      const p = inTree(raw);
      if (recipeTargets.has(raw) && isPhony(raw)) {
        orderAfter.add(raw);
      } else if (!recipeTargets.has(raw) && isPhony(raw)) {
        for (const a of resolveOrder(raw)) orderAfter.add(a);
      } else if (fromDepfile.has(p) && !words.has(p)) {
        const made = producer.get(p);
        if (made) orderAfter.add(made);
      } else {
        inputs.add(p);
      }
    }
    for (const raw of rule?.orderOnly ?? []) for (const a of resolveOrder(raw)) orderAfter.add(a);
    // Files the commands name (a generator script, a linker script) are inputs too.
    for (const w of words) {
      if (outputs.includes(w) || inputs.has(w)) continue;
      // A file in the build folder that no action makes is one this recipe writes itself (OSv's kernel
      // link also writes osv.syms): reading it as an input would see it change under the action.
      if (producer.has(w) || (!w.startsWith(buildRoot) && isFile(w))) inputs.add(w);
    }
    // A generator script reads files it names itself (OSv's gen-syscalls reads syscalls/*.cc.in).
    if (facts.kind === 'generate' || facts.kind === 'other') {
      for (const w of words) for (const f of filesNamedBy(root, w, buildRoot)) if (!outputs.includes(f)) inputs.add(f);
    }
    for (const i of inputs) {
      const made = producer.get(i);
      if (made === t.target) inputs.delete(i);
    }
    orderAfter.delete(t.target);
    const kind = facts.kind;
    const source = kind === 'compile' ? (rule?.prereqs.map(inTree).find((p) => words.has(p)) ?? undefined) : undefined;
    const text = db.ruleText.get(t.target) ?? '';
    const expandLate = !isPhony(t.target) && (refersTo(text, late) || shellReadsBuild(text, inBuild));
    actions.push({
      id: t.target,
      kind,
      commands: expandLate ? [lateRecipe(req.vars, t.target, rule)] : t.recipe,
      cwd: '.',
      env,
      // Compilers and linkers read no variable make exports; commands and scripts read those they name.
      keyEnv: kind === 'compile' || kind === 'link' ? NO_ENV : envReadBy(t.recipe, exported, (w) => scriptText(root, w)),
      inputs: [...inputs].sort(),
      orderAfter: [...orderAfter].sort(),
      outputs,
      depfile,
      source,
    });
  }
  return actions;
}

/**
 * A recipe whose text depends on build outputs when make expands it (see lateVariables) is run by make
 * itself, when osvd runs the action: `-B` to run it, `-o` for each prerequisite so that make remakes
 * nothing else. The recipe make runs is then the one make would run at that moment.
 */
function lateRecipe(vars: Readonly<Record<string, string>>, target: string, rule: RuleEntry | undefined): string {
  const keep = [...(rule?.prereqs ?? []), ...(rule?.orderOnly ?? [])].flatMap((p) => ['-o', p]);
  return ['make', '--no-print-directory', '-s', '-B', 'V=1', ...assignments(vars), ...keep, target].map(shellQuote).join(' ');
}

/** gcc does not preprocess a `.s` file, so `-MD` writes no depfile for it (OSv has a few in libc/arch). */
function unpreprocessedSource(recipe: readonly string[]): boolean {
  return recipe.some((line) => / -c(\s.*)?\s\S+\.s$/.test(line.trim()));
}

/** `$(shell ...)` in the recipe's own text that names the build folder (`$(shell cat $(out)/x)`). */
function shellReadsBuild(text: string, inBuild: ReadonlySet<string>): boolean {
  for (const m of text.matchAll(/\$\(shell\b[^\n]*/g)) if (refersTo(m[0], inBuild)) return true;
  return false;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function depfileNames(root: string, depfile: string): Set<string> {
  const abs = path.resolve(root, depfile);
  // On an unbuilt tree no depfile exists: a failed read's exception costs more than asking first.
  if (!fs.existsSync(abs)) return new Set();
  try {
    return new Set(parseDepfile(fs.readFileSync(abs, 'utf8'), depfile).map((p) => treePath(root, '.', p)));
  } catch {
    return new Set();
  }
}

function isRegularFile(root: string, p: string): boolean {
  try {
    return fs.statSync(path.resolve(root, p)).isFile();
  } catch {
    return false;
  }
}

/** Files of the tree (outside the build folder) that a script in the tree names literally. */
function filesNamedBy(root: string, word: string, buildRoot: string): string[] {
  const text = scriptText(root, word);
  if (text === undefined) return [];
  const found = new Set<string>();
  for (const m of text.matchAll(/[\w.+-]+(?:\/[\w.+-]+)+/g)) {
    const p = m[0];
    if (p.startsWith(buildRoot) || p.startsWith('/') || found.has(p)) continue;
    if (isRegularFile(root, p)) found.add(treePath(root, '.', p));
  }
  return [...found];
}

/** The text of a script in the tree that a command names (small text files only). */
function scriptText(root: string, word: string): string | undefined {
  if (word.startsWith('-') || word.startsWith('/') || word.includes('$')) return undefined;
  const abs = path.resolve(root, word);
  if (!abs.startsWith(root + path.sep)) return undefined;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile() || st.size > 256 * 1024) return undefined;
    const text = fs.readFileSync(abs, 'utf8');
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}
