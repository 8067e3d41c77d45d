import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ToolMissingError } from '../base/errors.js';
import { treePath } from '../graph/paths.js';
import { raceWindowStart, type FileHasher } from '../graph/traces.js';
import { CompilerFiles } from './compilerIdentity.js';
import { ImportError } from './errors.js';
import { makeCommandLine, variableAssignments, type ImportedBuild, type ImportRequest } from './importRequest.js';
import { actionsFrom } from './makeActions.js';
import { DryRunParser, parseEnv0 } from './makeOutput.js';

/**
 * Ask GNU make what it would run: `make -p -n -B --trace V=1 <knobs> <goals>` prints every recipe with
 * its target, then make's database (prerequisites, phony targets, the makefiles it read). A second make
 * run, first and alone, prints the environment make exports to recipes. The commands of the actions
 * are exactly make's.
 */

/** make's own bookkeeping variables: never part of what an action reads. */
const MAKE_BOOKKEEPING = new Set(['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'MAKE_TERMOUT', 'MAKE_TERMERR', 'MAKE_RESTARTS', 'PWD', 'OLDPWD', 'SHLVL', '_']);
const ENV_TARGET = '__osvd_print_env';

/**
 * The hash an import records for a file make read that was written while make ran (or just before:
 * file times come from a coarse clock): make may have read either text, so no hash vouches for the
 * import, which is then never reused, and the daemon, which compares what make read with the file,
 * imports again.
 */
export const CHANGED_WHILE_READ = 'changed while make read it';

export async function runImport(req: ImportRequest, files: FileHasher): Promise<ImportedBuild> {
  const started = performance.now();
  const readFrom = raceWindowStart(Date.now(), false);
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
    const envRun = await runRepairing([...variableAssignments(req.vars), '--eval', `${ENV_TARGET}: ; @env -0 > ${makeQuote(envFile)}${prints}`, ENV_TARGET]);
    if (envRun.code !== 0) throw makeFailed(req, makeCommandLine(req), envRun.stderr);
    env = withoutOwnRule(parseEnv0(fs.readFileSync(envFile, 'utf8')));
    wanted.forEach((v, i) => {
      precomputed[v] = fs.readFileSync(path.join(tmp, `var${i}`), 'utf8').replace(/\n$/, '');
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const full: ImportRequest = { ...req, vars: { ...req.vars, ...precomputed } };
  const cmdline = makeCommandLine(full);
  // The compilers the recipes run are asked what they run while make is still printing.
  const compilers = new CompilerFiles(req.root, env);
  const notice = (line: string): void => compilers.notice(line);
  // make's output grows with every TU and is parsed as it arrives: a new parser for each attempt.
  let parser = new DryRunParser(notice);
  // The build folder's makefiles may be written by the environment run itself (see above), often
  // milliseconds before the dry run starts: theirs count from its start itself, as files a build makes.
  const dryFrom = raceWindowStart(Date.now(), true);
  const dry = await runRepairing(['-p', '-n', '-B', '--trace', 'V=1', ...cmdline], () => {
    parser = new DryRunParser(notice);
    return (chunk) => parser.push(chunk);
  });
  if (dry.code !== 0) throw makeFailed(req, cmdline, dry.stderr);
  const { traced, db } = parser.end();
  const exported: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (req.baseEnv[k] !== v && !MAKE_BOOKKEEPING.has(k)) exported[k] = v;
  }
  if (db.rules.size === 0) throw new ImportError('make printed no database: is this GNU make?', { file: path.join(req.root, 'Makefile') });
  await compilers.settled();
  const actions = actionsFrom(full, traced, db, env, exported, compilers);
  const outPrefix = req.outDir + '/';
  const settled = (f: string): readonly [string, string] => {
    const changedAt = files.changedMs(f);
    const changed = changedAt !== null && changedAt >= (f.startsWith(outPrefix) ? dryFrom : readFrom);
    return [f, changed ? CHANGED_WHILE_READ : (files.hash(f) ?? 'missing')];
  };
  const makefiles = db.makefiles
    .map((m) => treePath(req.root, '.', m))
    .filter((m) => !(m.startsWith(outPrefix) && m.endsWith('.d')))
    .map(settled);
  const tools = [...new Set(actions.flatMap((a) => a.tool?.files ?? []))].sort().map(settled);
  return { actions, makefiles, tools, exported, importMs: performance.now() - started, ...(removed.size ? { removedDepfiles: [...removed] } : {}) };
}

/**
 * The environment as make gives it to recipes, without the rule osvd read it with: make passes
 * `--eval` on to the makes a recipe runs, in MAKEFLAGS, and a make run without goals takes the first
 * rule it knows as its default goal, which would be ENV_TARGET (writing into a folder long gone). The
 * rest of MAKEFLAGS (the variables given on the command line) stays, as make passes it. In MAKEFLAGS
 * the blanks inside a word are escaped with a backslash.
 */
function withoutOwnRule(env: Record<string, string>): Record<string, string> {
  const flags = env.MAKEFLAGS;
  if (flags === undefined) return env;
  return { ...env, MAKEFLAGS: flags.replace(OWN_EVAL, '') };
}

const OWN_EVAL = new RegExp(`(^|[ ])--eval=${ENV_TARGET}:(?:\\\\.|[^ \\\\])*`, 'g');

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

