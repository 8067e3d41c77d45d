import path from 'node:path';
import { compilesSources, depfileOf, isCompilerName, programOf, toolKind } from './recipes.js';
import { shellWords } from './shellWords.js';

/**
 * What a recipe writes, read from its commands: the files they name as outputs (`-o`, `of=`, a
 * redirection, a copy's destination), and whether they may write others (then the recipe is "open"
 * and the builder learns its outputs by looking).
 */

/** What a recipe writes, as far as its commands say. */
export interface RecipeWrites {
  /** Files the commands name as what they write (`-o`, `of=`, a redirection, a copy's destination), as written. */
  readonly files: readonly string[];
  /**
   * Whether a command may write files it does not name: a script, `cd` (relative names then mean
   * another folder), a tool osvd does not know. The builder learns such a recipe's outputs by looking.
   */
  readonly open: boolean;
  /**
   * Of `files`, the copies' destinations that a symbolic link to a folder does not redirect: `ln -n`
   * replaces such a link (make's `links`: `ln -nsf release.x64 build/last`), `-T` never writes into a
   * folder. Whether a destination is a folder is asked of the disk, and for these it must be the link
   * itself, or the import would depend on whether an earlier build left the link there.
   */
  readonly noDereference: readonly string[];
}

/** Programs that write nothing but their standard output (and what a redirection names). */
const READ_ONLY = new Set([
  ':', '#', 'true', 'false', 'test', '[', 'echo', 'printf', 'cat', 'cmp', 'diff', 'sort', 'uniq', 'grep', 'egrep', 'fgrep', 'head', 'tail', 'wc', 'tr', 'cut',
  'nm', 'readelf', 'objdump', 'size', 'c++filt', 'basename', 'dirname', 'readlink', 'realpath', 'stat', 'expr', 'env', 'exit', 'rm', 'mkdir',
]);
const COPIES = new Set(['cp', 'mv', 'ln', 'install']);
const SHELL_PREFIXES = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time']);
/** A simple command that starts with one of these writes nothing itself (`fi`, a `for` header, `read`). */
const SHELL_WORDS = new Set(['fi', 'done', 'esac', '}', 'for', 'read', 'set', 'trap', 'shift', 'return', 'break', 'continue', 'local', 'export', 'unset', 'wait']);
const SEPARATORS = new Set([';', '|', '&', '(', ')']);

/**
 * The files a recipe's commands write, and whether they may write others (see RecipeWrites). Shell
 * words are split approximately (as shellWords does): anything not understood makes the recipe open,
 * which costs the builder a look at the build folder, never a wrong build.
 */
export function recipeWrites(commands: readonly string[]): RecipeWrites {
  const files: string[] = [];
  const noDereference: string[] = [];
  let open = false;
  for (const command of commands) {
    const words = shellWords(command);
    let start = 0;
    for (let i = 0; i <= words.length; i++) {
      // `2>&1`, `>&2`: the `&` belongs to the redirection.
      if (i < words.length && (!SEPARATORS.has(words[i]!) || (words[i] === '&' && (words[i - 1] === '>' || words[i - 1] === '<')))) continue;
      if (i > start && !simpleCommandWrites(words.slice(start, i), files, noDereference)) open = true;
      start = i + 1;
    }
  }
  return { files: [...new Set(files)], open, noDereference: [...new Set(noDereference)] };
}

/** One simple command: adds what it writes to `files`; false when it may write something unnamed. */
function simpleCommandWrites(words: readonly string[], files: string[], noDereference: string[]): boolean {
  // Redirections first: `> file`, `>> file`; `2>&1` and `>&2` write no file.
  const plain: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '>' || w === '<') {
      let j = i + 1;
      if (w === '>' && words[j] === '>') j++;
      if (words[j] === '&') {
        i = j + 1;
        continue;
      }
      const target = words[j];
      if (w === '>' && target !== undefined && target !== '/dev/null') files.push(target);
      i = j;
      if (/^\d$/.test(plain.at(-1) ?? '')) plain.pop();
      continue;
    }
    plain.push(w);
  }
  // Shell keywords around the command: `if cmd; then cmd; fi`, `while read x; do ...; done`.
  while (plain.length > 0 && SHELL_PREFIXES.has(plain[0]!)) plain.shift();
  if (plain.length === 0 || SHELL_WORDS.has(plain[0]!)) return true;
  const p = programOf(plain);
  if (!p) return true;
  const name = path.basename(p.program);
  const args = p.args;
  const after = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (toolKind(name) !== undefined || name === 'as' || name === 'strip' || /^(?:[\w.-]+-)?(?:strip|objcopy)$/.test(name)) {
    if (args.includes('-E') && !args.includes('-o')) return true;
    if (name === 'ar' || name.endsWith('-ar')) {
      const archive = args.find((a, i) => i > 0 && !a.startsWith('-'));
      if (archive) files.push(archive);
      return archive !== undefined;
    }
    const out = after('-o');
    if (/objcopy$/.test(name) && out === undefined) {
      const operands = args.filter((a) => !a.startsWith('-'));
      // objcopy IN [OUT]: without OUT it rewrites IN; options with values make operands unsure.
      if (args.some((a) => /^-[A-Za-z]$/.test(a))) return false;
      if (operands.length === 0) return false;
      files.push(operands.at(-1)!);
      return true;
    }
    if (out === undefined) return false;
    files.push(out);
    const depfile = isCompilerName(name) && (args.includes('-c') || compilesSources(args)) ? depfileOf(args) : undefined;
    if (depfile) files.push(depfile);
    // -save-temps and friends write beside the output.
    return !args.some((a) => a.startsWith('-save-temps') || a === '-fdump-tree-all');
  }
  if (name === 'dd') {
    const of = args.find((a) => a.startsWith('of='));
    if (of) files.push(of.slice(3));
    return true;
  }
  if (COPIES.has(name)) {
    const operands = args.filter((a) => !a.startsWith('-'));
    // More than one source, or a destination that is a folder: the files written are not named.
    if (operands.length !== 2 || operands[1]!.endsWith('/') || args.some((a) => /^-[a-zA-Z]*[trR]/.test(a))) return false;
    files.push(operands[1]!);
    const short = (letter: string): boolean => args.some((a) => /^-[a-zA-Z]+$/.test(a) && a.includes(letter));
    if (short('T') || args.includes('--no-target-directory') || (name === 'ln' && (short('n') || args.includes('--no-dereference')))) noDereference.push(operands[1]!);
    return true;
  }
  if (name === 'touch') {
    files.push(...args.filter((a) => !a.startsWith('-')));
    return true;
  }
  if (name === 'sed') return !args.some((a) => a === '-i' || a.startsWith('-i') || a === '--in-place');
  if (name === 'awk' || name === 'gawk' || name === 'mawk') return !args.some((a) => a.includes('>'));
  return READ_ONLY.has(name);
}
