import fs from 'node:fs';
import path from 'node:path';
import type { BuildGraph } from '../graph/graph.js';
import { OsvdError } from '../base/errors.js';
import { UNSEEN_ENV } from '../osv/passedEnv.js';
import { wordSpans } from '../osv/shellWords.js';

/**
 * A daemon builds with the environment it was started with; a client in another shell may have
 * another PATH (a toolchain put first, a compiler wrapper) or other wrapper variables. Building with
 * the daemon's then would not be what `make` or `osvd build --no-daemon` does in that shell, so the
 * daemon refuses such a build and says what differs. A PATH that finds the same programs is no
 * difference: an editor's terminal often adds folders of its own.
 */

/** Programs a compiler driver and make look up on PATH besides those the recipes name. */
const ALWAYS = ['make', 'as', 'ld'];
/** Shell words after which the next word is a command again. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'exec', 'time', 'command', 'nohup']);
/** Shell words that open or close a compound command where a program would stand: no program. */
const NOT_PROGRAMS = new Set(['fi', 'done', 'esac', '}', 'for', 'case', 'select']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

const programsOfGraph = new WeakMap<BuildGraph, readonly string[]>();

/** The programs the graph's commands name without a folder (looked up on PATH), sorted. */
export function programsOf(graph: BuildGraph): readonly string[] {
  let programs = programsOfGraph.get(graph);
  if (programs === undefined) {
    const names = new Set<string>(ALWAYS);
    const seen = new Set<string>();
    for (const action of graph.actions.values()) {
      for (const command of action.commands) {
        if (seen.has(command)) continue;
        seen.add(command);
        for (const name of commandWords(command)) names.add(name);
      }
    }
    programs = [...names].sort();
    programsOfGraph.set(graph, programs);
  }
  return programs;
}

/** The words of a shell command that stand where a program's name does, without a `/`. */
function commandWords(command: string): string[] {
  const out: string[] = [];
  let atStart = true;
  let redirected = false;
  for (const w of wordSpans(command)) {
    if (w.operator) {
      if (w.text.startsWith('<') || w.text.startsWith('>')) redirected = true;
      else atStart = true;
      continue;
    }
    if (redirected) {
      redirected = false;
      continue;
    }
    if (command[w.start] === '#') break;
    if (!atStart) continue;
    if (KEYWORDS.has(w.text) || ASSIGNMENT.test(w.text)) continue;
    atStart = false;
    if (w.text !== '' && !w.text.includes('/') && !NOT_PROGRAMS.has(w.text)) out.push(w.text);
  }
  return out;
}

/** Where `name` is found on `pathVar`, as the shell finds it, and the file that is after links; undefined when nowhere. */
export function findOnPath(name: string, pathVar: string, cwd: string): { readonly found: string; readonly real: string } | undefined {
  for (const dir of pathVar.split(':')) {
    const found = path.resolve(cwd, dir === '' ? '.' : dir, name);
    try {
      fs.accessSync(found, fs.constants.X_OK);
      if (fs.statSync(found).isFile()) return { found, real: fs.realpathSync(found) };
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * How a client's environment would build differently from the daemon's: each program of `programs`
 * that PATH finds elsewhere, and each variable a build reads (wrapper variables, SOURCE_DATE_EPOCH)
 * with another value; empty when none. `cwd`: the tree's root, where a relative PATH folder points.
 */
export function environmentDifferences(
  daemonEnv: Readonly<Record<string, string>>,
  clientEnv: Readonly<Record<string, string>>,
  programs: readonly string[],
  cwd: string,
): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(daemonEnv), ...Object.keys(clientEnv)]);
  for (const k of [...keys].sort()) {
    if (k === 'PATH' || UNSEEN_ENV.has(k) || daemonEnv[k] === clientEnv[k]) continue;
    out.push(`${k} is ${shown(clientEnv[k])} here, ${shown(daemonEnv[k])} for the daemon`);
  }
  const mine = daemonEnv.PATH ?? '';
  const theirs = clientEnv.PATH ?? '';
  if (mine !== theirs) {
    for (const name of programs) {
      const a = findOnPath(name, theirs, cwd);
      const b = findOnPath(name, mine, cwd);
      if (a?.real !== b?.real) out.push(`${name} is ${a?.found ?? 'not on PATH'} here, ${b?.found ?? 'not on PATH'} for the daemon`);
    }
  }
  return out;
}

function shown(v: string | undefined): string {
  return v === undefined ? 'unset' : `'${v}'`;
}

/** The error a build refused for its client's environment carries (ENV_DIFFERS). */
export function environmentDiffersError(differences: readonly string[], pid: number): OsvdError {
  const listed = differences.slice(0, 3).join('; ') + (differences.length > 3 ? `; and ${differences.length - 3} more` : '');
  return new OsvdError('ENV_DIFFERS', `this shell would build differently from the daemon (pid ${pid}), which keeps the environment it started with: ${listed}`, {
    field: 'environment',
    hint: 'to build with this shell\'s: osvd stop && osvd start, here; or osvd build --no-daemon',
  });
}
