import path from 'node:path';
import type { ActionKind } from '../graph/action.js';

/**
 * What osvd reads out of a recipe's commands: which program runs, what kind of action it is, which
 * depfile a compile writes, which words name files. Approximate shell splitting is enough here:
 * the commands themselves always run unchanged through /bin/sh.
 */

/** Split a command into words, honouring quotes and backslashes (no expansion). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === '\\' && i + 1 < command.length) {
      const next = command[++i]!;
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      continue;
    }
    if (/\s/.test(c) || c === ';' || c === '|' || c === '&' || c === '>' || c === '<' || c === '(' || c === ')') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      if (!/\s/.test(c)) words.push(c);
      continue;
    }
    word += c;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

const COMPILERS = /^(?:[\w.-]+-)?(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(?:-\d+)?$/;

/** Whether a program's file name is a C/C++ compiler driver's (`g++`, `x86_64-linux-gnu-gcc-12`, `clang`). */
export function isCompilerName(name: string): boolean {
  return COMPILERS.test(name);
}
const LINKERS = /^(?:[\w.-]+-)?(?:ld|ld\.bfd|ld\.gold|ld\.lld|ar)$/;

/** The program a command runs, skipping leading `VAR=value` assignments and `exec`/`env`. */
export function programOf(words: readonly string[]): { program: string; args: readonly string[] } | undefined {
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || words[i] === 'exec' || words[i] === 'env')) i++;
  if (i >= words.length) return undefined;
  const end = words.findIndex((w, j) => j > i && (w === ';' || w === '|' || w === '&'));
  return { program: words[i]!, args: words.slice(i + 1, end < 0 ? undefined : end) };
}

export interface RecipeFacts {
  readonly kind: ActionKind;
  /** For a compile with -MD/-MMD: the depfile it writes, as written in the command. */
  readonly depfile?: string;
}

/** Classify an action by the commands of its recipe (the last compiler or linker call wins). */
export function recipeFacts(commands: readonly string[], outputs: readonly string[]): RecipeFacts {
  let kind: ActionKind | undefined;
  let depfile: string | undefined;
  for (const command of commands) {
    const p = programOf(shellWords(command));
    if (!p) continue;
    const name = path.basename(p.program);
    if (COMPILERS.test(name) || name === 'as') {
      const compiles = p.args.includes('-c') || name === 'as';
      const preprocessOnly = p.args.includes('-E') || p.args.includes('-S');
      if (compiles && !preprocessOnly) {
        kind = 'compile';
        depfile = depfileOf(p.args) ?? depfile;
      } else if (!preprocessOnly) {
        kind = 'link';
      }
    } else if (LINKERS.test(name)) {
      kind = 'link';
    }
  }
  if (kind) return { kind, depfile: kind === 'compile' ? depfile : undefined };
  const generates = outputs.some((o) => o.includes('/gen/') || /\.(h|hh|hpp|symbols)$/.test(o) || /version_script/.test(o));
  return { kind: generates ? 'generate' : 'other' };
}

/** gcc's depfile: `-MF file`, else the object name with its suffix replaced by `.d`. */
function depfileOf(args: readonly string[]): string | undefined {
  if (!args.some((a) => a === '-MD' || a === '-MMD')) return undefined;
  const mf = args.indexOf('-MF');
  if (mf >= 0 && args[mf + 1]) return args[mf + 1];
  const o = args.indexOf('-o');
  const out = o >= 0 ? args[o + 1] : undefined;
  if (!out) return undefined;
  const ext = path.extname(out);
  return (ext ? out.slice(0, -ext.length) : out) + '.d';
}

/** Words of the commands that could name files: whole words, and the parts after `=` or `,`. */
export function fileLikeWords(commands: readonly string[]): string[] {
  const out = new Set<string>();
  for (const command of commands) {
    for (const w of shellWords(command)) {
      for (const part of [w, ...w.split(/[=,]/)]) {
        if (part === '' || part.startsWith('-') || part.includes('$') || part.includes('*')) continue;
        out.add(part);
      }
    }
  }
  return [...out];
}

/** Reading the environment in bulk: every exported variable counts as read. */
const WHOLE_ENV = /\bprintenv\b|\benv\b\s*(?:$|[|>;])|\$\{!|os\.environ\b(?!\s*\[\s*['"])|getenv\s*\(\s*[^"')\s]/m;
/** Reading variables by computed names that start with a literal prefix: `${conf_drivers_$name}`, `ENVIRON["conf_"$0]`. */
const PREFIXED = [/\{([A-Za-z_][A-Za-z0-9_]*)\$/g, /ENVIRON\s*\[\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*[^\]\s]/g];

/**
 * The exported make variables an action reads: those its commands name as `$NAME` or `${NAME}`, those
 * named in a script from the tree that a command runs, and, when a script computes names
 * (`eval "v=\${conf_drivers_$name}"`, awk's `ENVIRON["conf_"$0]`), every variable with that prefix.
 * A script that reads the environment wholesale (printenv, a computed name without a prefix) reads all.
 */
export function envReadBy(
  commands: readonly string[],
  exported: Readonly<Record<string, string>>,
  scriptText: (word: string) => string | undefined,
): Record<string, string> {
  const names = Object.keys(exported);
  if (names.length === 0) return {};
  const read = new Set<string>();
  const prefixes = new Set<string>();
  let all = false;
  const scan = (text: string): void => {
    if (WHOLE_ENV.test(text)) all = true;
    for (const re of PREFIXED) for (const m of text.matchAll(re)) prefixes.add(m[1]!);
    if (/\beval\b/.test(text) && prefixes.size === 0) all = true;
    if (/ENVIRON\s*\[(?!\s*"[^"]*"\s*\])/.test(text) && !/ENVIRON\s*\[\s*"[A-Za-z_]/.test(text)) all = true;
    for (const n of names) if (new RegExp(`\\b${escapeRegExp(n)}\\b`).test(text)) read.add(n);
  };
  for (const command of commands) {
    for (const n of names) if (new RegExp(`\\$\\{?${escapeRegExp(n)}\\b`).test(command)) read.add(n);
    for (const re of PREFIXED) for (const m of command.matchAll(re)) prefixes.add(m[1]!);
    if (WHOLE_ENV.test(command)) all = true;
    for (const w of shellWords(command)) {
      const text = scriptText(w);
      if (text !== undefined) scan(text);
    }
  }
  const out: Record<string, string> = {};
  for (const n of names) {
    if (all || read.has(n) || [...prefixes].some((p) => n.startsWith(p))) out[n] = exported[n]!;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
