import { variableAssignments } from './importRequest.js';
import type { MakeDatabase, RuleEntry } from './makeOutput.js';

/**
 * Recipes whose text depends on files in the build folder at the moment make expands them: a dry run
 * can only print what they were when it ran, so make itself runs them when osvd runs the action.
 */

/** Variables that name something in the build folder: `out` itself and those whose value refers to it. */
export function buildPathVariables(db: MakeDatabase): Set<string> {
  return closure(db, new Set(['out']));
}

/**
 * Variables whose value depends on files in the build folder at the moment make expands them, such as
 * OSv's `kernel_size = $(shell stat --printf %s $(out)/loader-stripped.elf)`: a dry run can only print
 * what they were when it ran. Found as `$(shell ...)` naming the build folder, then every recursive
 * variable that refers to one of those.
 */
export function lateVariables(db: MakeDatabase, inBuild: ReadonlySet<string>): Set<string> {
  const late = new Set<string>();
  for (const [name, value] of db.recursiveVars) {
    for (const m of value.matchAll(/\$\(shell\b.*/g)) if (refersTo(m[0], inBuild)) late.add(name);
  }
  return closure(db, late);
}

/** The variables given, and every recursive variable that refers to one of them. */
function closure(db: MakeDatabase, names: Set<string>): Set<string> {
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, value] of db.recursiveVars) {
      if (!names.has(name) && refersTo(value, names)) {
        names.add(name);
        changed = true;
      }
    }
  }
  return names;
}

/** Whether make text refers to one of the variables, as `$(name)` or `${name}`. */
export function refersTo(text: string, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  for (const m of text.matchAll(/\$[({]([A-Za-z_][\w.+-]*)[)}]/g)) if (names.has(m[1]!)) return true;
  return false;
}

/** Whether a rule's text (its recipe and target-specific variables, unexpanded) must be expanded when it runs. */
export function expandsLate(ruleText: string, late: ReadonlySet<string>, inBuild: ReadonlySet<string>): boolean {
  return refersTo(ruleText, late) || shellReadsBuild(ruleText, inBuild);
}

/** `$(shell ...)` in the recipe's own text that names the build folder (`$(shell cat $(out)/x)`). */
function shellReadsBuild(text: string, inBuild: ReadonlySet<string>): boolean {
  for (const m of text.matchAll(/\$\(shell\b[^\n]*/g)) if (refersTo(m[0], inBuild)) return true;
  return false;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A recipe whose text depends on build outputs when make expands it (see lateVariables) is run by make
 * itself, when osvd runs the action: `-B` to run it, `-o` for each prerequisite that make could remake
 * (`keep`), so that make remakes nothing else. The recipe make runs is then the one make would run at
 * that moment.
 *
 * `.SECONDARY:` without prerequisites (OSv's Makefile has it) makes GNU make 4.3 take every file for
 * an intermediate one, and make looks through an intermediate prerequisite to the files it depends
 * on even when `-o` names it: under `-B`, OSv's `vmlinuz-boot32.o` -> `loader-stripped.elf` ->
 * `loader.elf` -> the phony `stage1` remade every kernel object. Naming one file (of no rule) in
 * `.SECONDARY` turns that off; it changes nothing else for a make that builds one target.
 */
export function lateRecipe(vars: Readonly<Record<string, string>>, target: string, keep: readonly string[]): string {
  const old = keep.flatMap((p) => ['-o', p]);
  return ['make', '--no-print-directory', '-s', '-B', 'V=1', ...variableAssignments(vars), '--eval', `.SECONDARY: ${NOT_ALL_SECONDARY}`, ...old, target]
    .map(shellQuote)
    .join(' ');
}

/** The file named in `.SECONDARY` by lateRecipe: no rule makes it and no recipe reads it. */
const NOT_ALL_SECONDARY = '.osvd-not-all-secondary';

/**
 * The prerequisites a late recipe keeps make from remaking: those of its rule that make has something
 * to do for, once each. The others (sources, and the headers an existing depfile added, each with an
 * empty rule from gcc's `-MP`) make would not remake anyway; leaving every one of them out keeps the
 * command the same whether or not a depfile existed when the build was imported (the source, which
 * the depfile names too, was left out only when it did: OSv's vmlinuz-boot32.o ran again after each
 * import of a built tree).
 */
export function latePrerequisites(rule: RuleEntry | undefined, makes: (name: string) => boolean): string[] {
  const keep = new Set<string>();
  for (const p of [...(rule?.prereqs ?? []), ...(rule?.orderOnly ?? [])]) if (makes(p)) keep.add(p);
  return [...keep];
}
