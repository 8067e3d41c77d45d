import type { Action } from './action.js';

/**
 * What a failed action's message says: the command that failed and what it printed, as make shows
 * them. A hint is added only for what the shell said for sure: exit status 127 with "<word>: not found".
 * It speaks of a missing compiler only when the action is a compile and the word is the first of the
 * failed command (the compiler it runs); otherwise it names the word and nothing else.
 */
export function failureMessage(action: Pick<Action, 'kind'>, exec: { readonly exitCode: number | null; readonly output: string; readonly failedCommand?: string }): string {
  const output = exec.output.trim();
  const command = exec.failedCommand?.trim();
  const lines: string[] = [];
  if (command) lines.push(`$ ${command.length > 2000 ? `${command.slice(0, 2000)} ...` : command}`);
  if (output) lines.push(output);
  else lines.push(`(exit status ${exec.exitCode ?? 'unknown: killed by a signal'}, no output)`);
  const hint = failureHint(action, exec);
  if (hint !== undefined) lines.push(hint);
  return lines.join('\n');
}

/** gcc's and clang's drivers, as cross or versioned names (x86_64-linux-gnu-g++-12). */
const COMPILER_DRIVER = /^(?:[\w.-]+-)?(?:g\+\+|gcc|c\+\+|cc|clang\+\+|clang)(?:-\d+(?:\.\d+)*)?$/;

/** The hint a failure's message ends with, when the shell said which command it did not find. */
export function failureHint(action: Pick<Action, 'kind'>, exec: { readonly exitCode: number | null; readonly output: string; readonly failedCommand?: string }): string | undefined {
  const missing = exec.exitCode === 127 ? notFoundWord(exec.output.trim()) : undefined;
  if (missing === undefined) return undefined;
  const command = exec.failedCommand?.trim();
  const first = command ? firstWord(command) : undefined;
  // A compile, or a recipe that runs a compiler driver to compile and link at once (a host tool such
  // as OSv's gen-ctype-data, libenviron.so): the missing first word is the compiler.
  const isCompiler = action.kind === 'compile' || COMPILER_DRIVER.test(baseName(missing));
  const compiler = isCompiler && first !== undefined && baseName(missing) === baseName(first);
  return compiler
    ? `(the compiler '${missing}' was not found: is it installed and on PATH?)`
    : `(the shell did not find '${missing}'${/^(?:[\w.-]+-)?(?:objdump|objcopy|ld|nm|strip|readelf|ar|as)$/.test(baseName(missing)) ? '; it comes with binutils' : ''})`;
}

/** The word the shell reports as not found (`/bin/sh: 1: make:: not found`, `sh: foo: command not found`). */
function notFoundWord(output: string): string | undefined {
  const m = /(?:^|\n)(?:[^\n:]*: )?(?:\d+: )?([^\s:'"]+):? (?:command )?not found/.exec(output);
  return m?.[1];
}

/** The program a command line runs first, past `VAR=value` assignments and `exec`/`env`. */
function firstWord(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || words[i] === 'exec' || words[i] === 'env')) i++;
  return words[i]?.replace(/^['"]|['"]$/g, '');
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
