import path from 'node:path';
import type { PreprocessRecipe } from '../graph/action.js';
import { isCompilerName } from './recipes.js';
import { wordSpans, type WordSpan as Span } from './shellWords.js';

/**
 * Reading a compile's command line where character offsets matter: where it names the compiler (its
 * key covers the compiler's content, not that name) and how to run it as a preprocessor (the same
 * flags, without the object and the depfile).
 */

export interface CompileLine {
  /** Which of the commands runs the compiler. */
  readonly command: number;
  /** The compiler as the command names it. */
  readonly program: string;
  /** Where: [start, end) in that command. */
  readonly name: readonly [number, number];
  /** Absent when the line cannot be preprocessed safely (shell syntax, flags that write files of their own). */
  readonly preprocess?: PreprocessRecipe;
}

/**
 * What gcc (and clang) are given instead: preprocess to standard output, and fail on __DATE__,
 * __TIME__ or __TIMESTAMP__ even in system headers (an object built from such output depends on the
 * moment; ccache's rule) without making any other warning an error.
 */
const APPEND = '-E -Wsystem-headers -Wno-error -Werror=date-time';
/** gas reads the file `.incbin` names: the preprocessed output does not show its content. */
const REFUSE_IF = '.incbin';

/** Flags dropped with their argument (the depfile's name and targets, the object). */
const WITH_ARGUMENT = new Set(['-o', '-MF', '-MT', '-MQ']);
const DROPPED = new Set(['-c', '-MD', '-MMD', '-MP']);
/** Flags under which preprocessing would write files or not preprocess at all: no recipe. */
const UNSAFE = /^(?:-E|-S|-M|-MM|-MG|-save-temps.*|--save-temps.*|-Wp,.*|-Xpreprocessor|-fsyntax-only|-###|-fpch-preprocess|-MJ.*|-fdump-.*)$/;

/** The compile line among `commands` (the last compiler call with -c), or undefined. */
export function readCompileLine(commands: readonly string[]): CompileLine | undefined {
  return lastDriverCall(commands, true);
}

/**
 * The last compiler driver call among `commands`, with or without -c (a driver that compiles and links
 * in one command, or links alone, runs the compiler's programs too): its key covers the compiler's
 * content as a compile's does. `preprocess` is for compiles only and is left out.
 */
export function readDriverCall(commands: readonly string[]): Omit<CompileLine, 'preprocess'> | undefined {
  const call = lastDriverCall(commands, false);
  return call && { command: call.command, program: call.program, name: call.name };
}

function lastDriverCall(commands: readonly string[], compileOnly: boolean): CompileLine | undefined {
  for (let i = commands.length - 1; i >= 0; i--) {
    const spans = wordSpans(commands[i]!);
    let p = 0;
    while (p < spans.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(spans[p]!.text) || spans[p]!.text === 'exec' || spans[p]!.text === 'env')) p++;
    const program = spans[p];
    if (!program || program.operator || !isCompilerName(path.basename(program.text))) continue;
    const args = spans.slice(p + 1);
    const compiles = args.some((a) => a.text === '-c' && !a.operator);
    if (compileOnly && !compiles) continue;
    return { command: i, program: program.text, name: [program.start, program.end], preprocess: compiles ? recipeOf(i, args, spans.slice(0, p)) : undefined };
  }
  return undefined;
}

function recipeOf(command: number, args: readonly Span[], before: readonly Span[]): PreprocessRecipe | undefined {
  if (before.length > 0 || args.some((a) => a.operator || a.text.includes('$') || a.text.includes('`') || UNSAFE.test(a.text))) return undefined;
  // Without a depfile osvd knows no headers of it, so no change is ever headers alone.
  if (!args.some((a) => a.text === '-MD' || a.text === '-MMD')) return undefined;
  const omit: number[] = [];
  // Neighbouring words make one range (`-MD -MT x.o -MP`, `-c -o x.o`): fewer numbers to keep per compile.
  const drop = (start: number, end: number, previous: Span | undefined): void => {
    if (omit.length > 0 && previous !== undefined && omit[omit.length - 1] === previous.end) omit[omit.length - 1] = end;
    else omit.push(start, end);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (DROPPED.has(a.text) || /^-(?:o|MF|MT|MQ)./.test(a.text)) drop(a.start, a.end, args[i - 1]);
    else if (WITH_ARGUMENT.has(a.text) && i + 1 < args.length) drop(a.start, args[++i]!.end, args[i - 2]);
  }
  return { command, omit, append: APPEND, refuseIf: REFUSE_IF };
}
