import fs from 'node:fs';
import path from 'node:path';
import type { ActionKind } from '../graph/action.js';
import { withArgs, type CompileLine } from '../graph/launcher.js';
import { explicitDepfile, unwrapCompiler } from './compilerWrappers.js';
import { shellWords } from './shellWords.js';

/**
 * What osvd reads out of a recipe's commands: which program runs, what kind of action it is, which
 * depfile a compile writes, which words name files (words as shellWords.ts splits them).
 */

const COMPILERS = /^(?:[\w.-]+-)?(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(?:-\d+)?$/;

/** Whether a program's file name is a C/C++ compiler driver's (`g++`, `x86_64-linux-gnu-gcc-12`, `clang`). */
export function isCompilerName(name: string): boolean {
  return COMPILERS.test(name);
}
const LINKERS = /^(?:[\w.-]+-)?(?:ld|ld\.bfd|ld\.gold|ld\.lld|ar)$/;

/** Whether a program (a path or a name) is a C/C++ compiler driver or a linker, by its name. */
export function toolKind(program: string): 'compiler' | 'linker' | undefined {
  const name = path.basename(program);
  return COMPILERS.test(name) ? 'compiler' : LINKERS.test(name) ? 'linker' : undefined;
}

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
  /**
   * The wrappers before the compiler of its compile line (`ccache`, `distcc`, ...), when there are any:
   * a compile's, or a recipe's that compiles then links (OSv's libvdso.so).
   */
  readonly wrappers?: readonly string[];
}

/** What one command line runs: the program behind any compiler wrappers, and whether it compiles. */
function callOf(command: string): { name: string; args: readonly string[]; wrappers: string[]; compiles: boolean } | undefined {
  const p = programOf(shellWords(command));
  if (!p) return undefined;
  const { program, args, wrappers } = unwrapCompiler(p);
  const name = path.basename(program);
  const compiles = (COMPILERS.test(name) && args.includes('-c') && !args.includes('-E') && !args.includes('-S')) || name === 'as';
  return { name, args, wrappers, compiles };
}

/** The line of a compile's commands that calls the compiler (the last one that does), for a launcher. */
export function compileLineOf(commands: readonly string[]): CompileLine | undefined {
  for (let i = commands.length - 1; i >= 0; i--) {
    const call = callOf(commands[i]!);
    if (!call?.compiles) continue;
    const launchArgs = explicitDepfile(call.args, depfileOf(call.args));
    return { index: i, wrappers: call.wrappers, ...(launchArgs.length ? { launchArgs } : {}) };
  }
  return undefined;
}

/**
 * The commands of a compile the recipe itself runs through distcc or icecc (`CXX='distcc g++'`), with
 * the arguments a launcher needs (an explicit -MF: see explicitDepfile) on its compiler line.
 */
export function withLaunchArgs(commands: readonly string[]): readonly string[] {
  const line = compileLineOf(commands);
  if (!line?.launchArgs || !line.wrappers.some((w) => w === 'distcc' || w === 'icecc')) return commands;
  return commands.map((c, i) => (i === line.index ? withArgs(c, line.launchArgs!) : c));
}

/** Classify an action by the commands of its recipe (the last compiler or linker call wins). */
export function recipeFacts(commands: readonly string[], outputs: readonly string[]): RecipeFacts {
  let kind: ActionKind | undefined;
  let depfile: string | undefined;
  let wrappers: readonly string[] = [];
  for (const command of commands) {
    const call = callOf(command);
    if (!call) continue;
    const { name, args } = call;
    if (COMPILERS.test(name) || name === 'as') {
      const preprocessOnly = args.includes('-E') || args.includes('-S');
      if (call.compiles) {
        kind = 'compile';
        depfile = depfileOf(args) ?? depfile;
        wrappers = call.wrappers;
      } else if (!preprocessOnly) {
        kind = 'link';
        // Only a driver that compiles sources writes a depfile; linking objects alone (-MD in CFLAGS) writes none.
        if (compilesSources(args)) depfile = depfileOf(args) ?? depfile;
      }
    } else if (LINKERS.test(name)) {
      kind = 'link';
    }
  }
  // A compiler driver that compiles and links in one command (OSv's libenviron.so, fastlz/lz) writes
  // its -MD depfile as a compile does; a recipe that compiles then links (libvdso.so) keeps the compile's.
  if (kind) return wrappers.length ? { kind, depfile, wrappers } : { kind, depfile };
  const generates = outputs.some((o) => o.includes('/gen/') || /\.(h|hh|hpp|symbols)$/.test(o) || /version_script/.test(o));
  return { kind: generates ? 'generate' : 'other' };
}

const SOURCE = /\.(?:c|cc|cpp|cxx|C|S|s)$/;

/** Whether a compiler driver's arguments name source files (it compiles them, besides any linking). */
export function compilesSources(args: readonly string[]): boolean {
  return args.some((a) => !a.startsWith('-') && SOURCE.test(a));
}

/**
 * gcc's depfile: `-MF file`, else the output's name with its suffix replaced by `.d` (gcc 11 and later
 * name it so for a link too). None when every source is plain assembler (`.s` without `-x`): gcc does
 * not preprocess it, so -MD writes nothing (OSv has a few in libc/arch and musl), and an output named
 * but never written keeps the result from being shared.
 */
export function depfileOf(args: readonly string[]): string | undefined {
  if (!args.some((a) => a === '-MD' || a === '-MMD')) return undefined;
  const sources = args.filter((a) => !a.startsWith('-') && SOURCE.test(a));
  if (sources.length > 0 && sources.every((a) => a.endsWith('.s')) && !args.some((a) => a.startsWith('-x'))) return undefined;
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
  const add = (part: string): void => {
    if (part !== '' && !part.startsWith('-') && !part.includes('$') && !part.includes('*')) out.add(part);
  };
  for (const command of commands) {
    for (const w of shellWords(command)) {
      add(w);
      if (w.includes('=') || w.includes(',')) for (const part of w.split(/[=,]/)) add(part);
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

/** gcc's and clang's flag for colours when their output is not a terminal (osvd captures it). */
export const COLOUR_FLAG = '-fdiagnostics-color=always';
/** A command's leading `VAR=value` words, then the program: where the colour flag goes after. */
const LEADING_PROGRAM = /^(\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(\S+)(?=\s|$)/;

/**
 * A compile's commands with the colour flag after each compiler call that starts a command, for a
 * terminal that shows colours; other actions' commands as they are. The action's key and record
 * keep its own commands: the flag changes the messages, never the object.
 */
export function withColour(kind: ActionKind, commands: readonly string[]): readonly string[] {
  if (kind !== 'compile') return commands;
  return commands.map((c) => {
    const m = LEADING_PROGRAM.exec(c);
    if (!m || !COMPILERS.test(path.basename(m[2]!))) return c;
    const end = m[0].length;
    return `${c.slice(0, end)} ${COLOUR_FLAG}${c.slice(end)}`;
  });
}

/** The text of a script in the tree that a command names (small text files only). */
export function scriptText(root: string, word: string): string | undefined {
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
