import fs from 'node:fs';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import { parseDepfile } from '../graph/depfile.js';
import { treePath } from '../graph/paths.js';
import { readCompileLine, readDriverCall } from './compileCommand.js';
import { CompilerFiles } from './compilerIdentity.js';
import type { ImportRequest } from './importRequest.js';
import { buildPathVariables, expandsLate, latePrerequisites, lateRecipe, lateVariables } from './lateExpansion.js';
import type { MakeDatabase, RuleEntry, TracedTarget } from './makeOutput.js';
import { keyedWrapperEnv } from './compilerWrappers.js';
import { envReadBy, fileLikeWords, recipeFacts, scriptText, withLaunchArgs, type RecipeFacts } from './recipes.js';
import { recipeWrites } from './recipeWrites.js';

/**
 * Turn what make said it would run (the traced recipes and make's database) into actions: each target
 * with a recipe is one action, its outputs read off the recipe first so that the inputs of every
 * action can then be told apart from the outputs of others.
 */

/** The environment links read: shared by all of them. */
const NO_ENV: Readonly<Record<string, string>> = Object.freeze({});
/** Variables gcc itself reads that change what it writes (__DATE__, include folders, its own programs). */
const COMPILER_ENV = ['SOURCE_DATE_EPOCH', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'GCC_EXEC_PREFIX', 'COMPILER_PATH'];

/** Build actions from the traced recipes and make's database. */
export function actionsFrom(
  req: Pick<ImportRequest, 'root' | 'outDir' | 'vars'>,
  traced: readonly TracedTarget[],
  db: MakeDatabase,
  env: Readonly<Record<string, string>>,
  exported: Readonly<Record<string, string>>,
  compilers: CompilerFiles = new CompilerFiles(req.root, env),
): Action[] {
  const withRecipe = traced.filter((t) => t.recipe.length > 0);
  const im = importContext(req, db, new Set(withRecipe.map((t) => t.target)), env, exported, compilers);
  // First pass: outputs, so that inputs can be told apart from outputs of other actions. What it reads
  // out of each recipe is kept for the second pass.
  const readings = new Map<string, RecipeReading>();
  const producer = new Map<string, string>();
  for (const t of withRecipe) {
    let reading = readRecipe(im, t);
    // A file two recipes say they write (`>>` into one log) stays the first one's; the second learns
    // what it wrote when it runs.
    const taken = reading.outputs.filter((o) => producer.has(o) && producer.get(o) !== t.target);
    if (taken.length) reading = { ...reading, outputs: reading.outputs.filter((o) => !taken.includes(o)), open: true };
    readings.set(t.target, reading);
    for (const o of reading.outputs) if (!producer.has(o)) producer.set(o, t.target);
  }
  return withRecipe.map((t) => actionOf(im, t, readings.get(t.target)!, producer));
}

/** What reading every recipe of one import shares. */
interface ImportContext {
  readonly root: string;
  readonly vars: Readonly<Record<string, string>>;
  /** The top build folder with its slash (`build/`): its files are made, not sources. */
  readonly buildRoot: string;
  readonly db: MakeDatabase;
  /** The targets that have a recipe: one action each. */
  readonly recipeTargets: ReadonlySet<string>;
  /** Variables whose value names the build folder, and those make must expand late (see lateVariables). */
  readonly inBuild: ReadonlySet<string>;
  readonly late: ReadonlySet<string>;
  readonly env: Readonly<Record<string, string>>;
  readonly exported: Readonly<Record<string, string>>;
  /** The part of the environment compiles read (one object shared by all of them). */
  readonly compilerEnv: Readonly<Record<string, string>>;
  /** The files of each compiler the compiles name (the compiler's identity in their keys). */
  readonly compilers: CompilerFiles;
  /** What a compile run through a wrapper (ccache, distcc, ...) reads of the environment (see compilerWrappers.ts). */
  readonly wrappedCompileEnv: Readonly<Record<string, string>>;
  isPhony(target: string): boolean;
  /** A recipe's word as a path of the tree. */
  inTree(word: string): string;
  /** Whether a path of the tree is a regular file. */
  isFile(p: string): boolean;
}

function importContext(
  req: Pick<ImportRequest, 'root' | 'outDir' | 'vars'>,
  db: MakeDatabase,
  recipeTargets: ReadonlySet<string>,
  env: Readonly<Record<string, string>>,
  exported: Readonly<Record<string, string>>,
  compilers: CompilerFiles,
): ImportContext {
  const root = req.root;
  const inBuild = buildPathVariables(db);
  // The same words (include folders, the compiler, forced headers) come back in every compile: resolve
  // and stat each once per import (50,000 compiles name a few hundred thousand words, mostly repeated).
  const resolved = new Map<string, string>();
  const regular = new Map<string, boolean>();
  return {
    root,
    vars: req.vars,
    buildRoot: req.outDir.split('/')[0]! + '/',
    db,
    recipeTargets,
    inBuild,
    late: lateVariables(db, inBuild),
    env,
    exported,
    compilers,
    compilerEnv: compilerEnvOf(env),
    wrappedCompileEnv: { ...keyedWrapperEnv(env), ...compilerEnvOf(env) },
    isPhony: (t) => db.rules.get(t)?.phony ?? false,
    inTree: (w) => {
      let p = resolved.get(w);
      if (p === undefined) resolved.set(w, (p = treePath(root, '.', w)));
      return p;
    },
    isFile: (p) => {
      let known = regular.get(p);
      if (known === undefined) regular.set(p, (known = isRegularFile(root, p)));
      return known;
    },
  };
}

function compilerEnvOf(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const read = COMPILER_ENV.filter((n) => env[n] !== undefined);
  return read.length ? Object.fromEntries(read.map((n) => [n, env[n]!])) : NO_ENV;
}

/** What the first pass reads out of a recipe, kept for the second. */
interface RecipeReading {
  readonly outputs: string[];
  readonly facts: RecipeFacts;
  /** The recipe's words that look like files, as paths of the tree. */
  readonly words: ReadonlySet<string>;
  readonly depfile: string | undefined;
  /** The recipe may write files under the build folder that `outputs` does not name (see recipeWrites). */
  readonly open: boolean;
}

function readRecipe(im: ImportContext, t: TracedTarget): RecipeReading {
  const words = new Set(fileLikeWords(t.recipe).map(im.inTree));
  let outputs: string[];
  if (im.isPhony(t.target)) {
    outputs = [...words].filter((p) => p.startsWith(im.buildRoot) && !im.recipeTargets.has(p));
    // `mkdir -p dir && gen > dir/file`: the folder is not what the action is for.
    outputs = outputs.filter((p) => !outputs.some((q) => q.startsWith(p + '/')));
  } else {
    outputs = [im.inTree(t.target)];
  }
  // What its commands say they write in the build folder is the action's too (the kernel link's
  // osv.syms, libvdso.o): not an input, and restored with the action.
  const writes = recipeWrites(t.recipe);
  let open = writes.open;
  for (const w of writes.files) {
    const p = im.inTree(w);
    if (!p.startsWith(im.buildRoot) || (im.recipeTargets.has(p) && p !== im.inTree(t.target))) continue;
    // A copy into a folder writes a file the command does not name.
    if (isDirectory(im.root, p, !writes.noDereference.includes(w))) open = true;
    else outputs.push(p);
  }
  // A depfile makes the recipe a compile, whose kind does not depend on the outputs given here.
  const facts = recipeFacts(t.recipe, outputs);
  const depfile = facts.depfile ? im.inTree(facts.depfile) : undefined;
  if (depfile) outputs.push(depfile);
  return { outputs: [...new Set(outputs)], facts, words, depfile, open };
}

function actionOf(im: ImportContext, t: TracedTarget, reading: RecipeReading, producer: ReadonlyMap<string, string>): Action {
  const { outputs, facts, words, depfile } = reading;
  const rule = im.db.rules.get(t.target);
  const fromDepfile = depfile ? depfileNames(im, depfile) : new Set<string>();
  const { inputs, traced, orderAfter } = prerequisitesOf(im, t.target, rule, reading, producer, fromDepfile);
  const kind = facts.kind;
  const source = kind === 'compile' ? (rule?.prereqs.map(im.inTree).find((p) => words.has(p)) ?? undefined) : undefined;
  const text = im.db.ruleText.get(t.target) ?? '';
  const expandLate = !im.isPhony(t.target) && expandsLate(text, im.late, im.inBuild);
  const compile = kind === 'compile' && !expandLate ? readCompileLine(t.recipe) : undefined;
  // A compile-and-link (libenviron.so, libvdso.so, fastlz/lz) or a driver's link keys on the compiler too.
  const driver = compile ?? (!expandLate ? readDriverCall(t.recipe) : undefined);
  const compiler = driver ? im.compilers.of(driver.program, '.') : [];
  for (const f of compiler) inputs.add(f);
  return {
    id: t.target,
    kind,
    commands: expandLate ? [lateRecipe(im.vars, t.target, latePrerequisites(rule, (p) => makesSomething(im, p)))] : facts.wrappers ? withLaunchArgs(t.recipe) : t.recipe,
    cwd: '.',
    env: im.env,
    // Compilers read their own variables (wrapped compiles: those of their wrappers that change outputs
    // too), linkers none of make's exported variables; commands and scripts read those they name.
    keyEnv: facts.wrappers ? im.wrappedCompileEnv : kind === 'compile' ? im.compilerEnv : kind === 'link' ? NO_ENV : envReadBy(t.recipe, im.exported, (w) => scriptText(im.root, w)),
    inputs: [...inputs].sort(),
    ...(traced.size ? { tracedInputs: [...traced].sort() } : {}),
    orderAfter: [...orderAfter].sort(),
    outputs,
    // A recipe make runs itself writes whatever make's recipe does.
    outputsOpen: reading.open || expandLate,
    depfile,
    source,
    ...(driver && compiler.length ? { tool: { command: driver.command, name: driver.name, files: compiler } } : {}),
    ...(compile?.preprocess && depfile ? { preprocess: compile.preprocess } : {}),
  };
}

/** The files an action reads and the actions it runs after: its rule's prerequisites, and files its commands name. */
function prerequisitesOf(
  im: ImportContext,
  target: string,
  rule: RuleEntry | undefined,
  reading: RecipeReading,
  producer: ReadonlyMap<string, string>,
  fromDepfile: ReadonlySet<string>,
): { inputs: Set<string>; traced: Set<string>; orderAfter: Set<string> } {
  const { outputs, facts, words, depfile } = reading;
  // Headers the Makefile learned from an existing depfile are not declared inputs: osvd reads the
  // depfile itself, and the import must not depend on whether one existed when it ran. Nor are the
  // other prerequisites the commands do not name (a generated header the Makefile names, as OSv's
  // runtime.o names ctype-data.h, which its depfile names too once it exists): the trace checks them.
  const inputs = new Set<string>();
  const traced = new Set<string>();
  const orderAfter = new Set<string>();
  for (const raw of rule?.prereqs ?? []) {
    const p = im.inTree(raw);
    if (im.isPhony(raw)) {
      if (im.recipeTargets.has(raw)) orderAfter.add(raw);
      else for (const a of actionsReached(im, raw)) orderAfter.add(a);
    } else if (depfile && !words.has(p)) {
      const made = producer.get(p);
      if (made) orderAfter.add(made);
      if (!fromDepfile.has(p)) traced.add(p);
    } else {
      inputs.add(p);
    }
  }
  for (const raw of rule?.orderOnly ?? []) for (const a of actionsReached(im, raw)) orderAfter.add(a);
  // Files the commands name (a generator script, a linker script) are inputs too.
  for (const w of words) {
    if (outputs.includes(w) || inputs.has(w)) continue;
    // A file in the build folder that no action makes is one this recipe writes itself (OSv's kernel
    // link also writes osv.syms): reading it as an input would see it change under the action.
    if (producer.has(w) || (!w.startsWith(im.buildRoot) && im.isFile(w))) inputs.add(w);
  }
  // A generator script reads files it names itself (OSv's gen-syscalls reads syscalls/*.cc.in).
  if (facts.kind === 'generate' || facts.kind === 'other') {
    for (const w of words) for (const f of filesNamedBy(im.root, w, im.buildRoot)) if (!outputs.includes(f)) inputs.add(f);
  }
  for (const i of [...inputs, ...traced]) {
    const made = producer.get(i);
    if (made === target) {
      inputs.delete(i);
      traced.delete(i);
    }
  }
  for (const i of inputs) traced.delete(i);
  orderAfter.delete(target);
  return { inputs, traced, orderAfter };
}

/** Whether make has something to do for a name: a recipe, a phony target, or prerequisites of its own. */
function makesSomething(im: ImportContext, name: string): boolean {
  const rule = im.db.rules.get(name);
  return im.recipeTargets.has(name) || (rule !== undefined && (rule.phony || rule.prereqs.length > 0 || rule.orderOnly.length > 0));
}

/** Actions reached through a phony or recipe-less prerequisite, for ordering. */
function actionsReached(im: ImportContext, name: string, seen = new Set<string>()): string[] {
  if (seen.has(name)) return [];
  seen.add(name);
  if (im.recipeTargets.has(name)) return [name];
  const rule = im.db.rules.get(name);
  if (!rule) return [];
  return [...rule.prereqs, ...rule.orderOnly].flatMap((p) => actionsReached(im, p, seen));
}

/** The names of a built tree's depfile, as paths of the tree (the same headers come back in every one: im.inTree keeps each). */
function depfileNames(im: ImportContext, depfile: string): Set<string> {
  const abs = path.resolve(im.root, depfile);
  // On an unbuilt tree no depfile exists: a failed read's exception costs more than asking first.
  if (!fs.existsSync(abs)) return new Set();
  try {
    return new Set(parseDepfile(fs.readFileSync(abs, 'utf8'), depfile).map(im.inTree));
  } catch {
    return new Set();
  }
}

function isDirectory(root: string, p: string, followLink: boolean): boolean {
  try {
    // Most are outputs not built yet: no exception (and its stack) for a missing file.
    const abs = path.resolve(root, p);
    return (followLink ? fs.statSync(abs, { throwIfNoEntry: false }) : fs.lstatSync(abs, { throwIfNoEntry: false }))?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

function isRegularFile(root: string, p: string): boolean {
  try {
    return fs.statSync(path.resolve(root, p), { throwIfNoEntry: false })?.isFile() ?? false;
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
