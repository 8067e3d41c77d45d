import fs from 'node:fs';
import type { Action } from '../graph/action.js';
import { programOf, toolKind } from './recipes.js';
import { shellWords } from './shellWords.js';

/**
 * Path independence for a shared cache. OSv compiles with -g, so an object records the folder it was
 * compiled in (DWARF's DW_AT_comp_dir and the line table's first directory): two checkouts at
 * different paths write different bytes for the same source. With sharing on, every compiler call
 * gets `-ffile-prefix-map=<root>=.`, which maps the tree's root to `.` in everything gcc records
 * (debug info, `__FILE__`, `__builtin_FILE`, profile paths; gcc also passes it to the assembler
 * for .S files), so the objects are the same wherever the tree is. OSv's Makefile names sources
 * and include folders relative to the root, so `__FILE__` and the line table's names are relative
 * already and stay as they were; only the compilation folder changes, from the root's absolute
 * path to `.`.
 *
 * gdb resolves a relative compilation folder against its own working folder, and then through its
 * source path (`directory`): run from the tree's root, as OSv's `.debug_gdb_scripts` entry
 * (`scripts/loader.py`, relative too) already needs, it finds every source; from elsewhere,
 * `directory <root>` does.
 *
 * Without sharing this is never applied: the commands stay exactly make's.
 */

const PREFIX = /^(\s*(?:(?:[A-Za-z_][A-Za-z0-9_]*=\S*|exec|env)\s+)*)(\S+)(?=\s)/;

/**
 * The actions with the root mapped away in every compiler call that compiles (not `-E`, `-M` alone).
 * Offsets into a command past the insertion (the preprocessing recipe's omitted ranges) move with it:
 * a stale range would leave `-o x.o` in the preprocessing, which would then overwrite the object.
 */
export function mapRootAway(actions: readonly Action[], root: string): Action[] {
  const roots = [...new Set([realpath(root), root])];
  const flags = roots.map((r) => `-ffile-prefix-map=${shellQuote(r)}=.`).join(' ');
  return actions.map((a) => {
    let mapped: Action = a;
    a.commands.forEach((c, i) => {
      const insertion = mapCommand(c, flags);
      if (insertion) mapped = shifted(mapped, i, insertion);
    });
    return mapped;
  });
}

interface Insertion {
  readonly command: string;
  /** Where text was inserted, and how much. */
  readonly at: number;
  readonly length: number;
}

/** `a` with command `i` replaced, and the offsets into it at or after the insertion moved. */
function shifted(a: Action, i: number, ins: Insertion): Action {
  const move = (offset: number): number => (offset > ins.at ? offset + ins.length : offset);
  const commands = a.commands.map((c, j) => (j === i ? ins.command : c));
  const preprocess = a.preprocess && a.preprocess.command === i ? { ...a.preprocess, omit: a.preprocess.omit.map(move) } : a.preprocess;
  const tool = a.tool && a.tool.command === i ? { ...a.tool, name: [move(a.tool.name[0]), move(a.tool.name[1])] as const } : a.tool;
  return { ...a, commands, ...(preprocess ? { preprocess } : {}), ...(tool ? { tool } : {}) };
}

function mapCommand(command: string, flags: string): Insertion | undefined {
  const p = programOf(shellWords(command));
  if (!p || toolKind(p.program) !== 'compiler') return undefined;
  if (p.args.includes('-E') || (p.args.includes('-M') && !p.args.includes('-c'))) return undefined;
  const m = PREFIX.exec(command);
  // The program as written must be the word programOf found (no quotes or expansions in the way).
  if (!m || m[2] !== p.program) return undefined;
  return { command: `${m[1]}${m[2]} ${flags}${command.slice(m[0].length)}`, at: m[0].length, length: flags.length + 1 };
}

function shellQuote(s: string): string {
  return /^[\w./+@%:,=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
