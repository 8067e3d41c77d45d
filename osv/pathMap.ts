import fs from 'node:fs';
import type { Action } from '../graph/action.js';
import { programOf, shellWords, toolKind } from './recipes.js';

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

/** The actions with the root mapped away in every compiler call that compiles (not `-E`, `-M` alone). */
export function mapRootAway(actions: readonly Action[], root: string): Action[] {
  const roots = [...new Set([realpath(root), root])];
  const flags = roots.map((r) => `-ffile-prefix-map=${shellQuote(r)}=.`).join(' ');
  return actions.map((a) => {
    let changed = false;
    const commands = a.commands.map((c) => {
      const mapped = mapCommand(c, flags);
      if (mapped !== c) changed = true;
      return mapped;
    });
    return changed ? { ...a, commands } : a;
  });
}

function mapCommand(command: string, flags: string): string {
  const p = programOf(shellWords(command));
  if (!p || toolKind(p.program) !== 'compiler') return command;
  if (p.args.includes('-E') || (p.args.includes('-M') && !p.args.includes('-c'))) return command;
  const m = PREFIX.exec(command);
  // The program as written must be the word programOf found (no quotes or expansions in the way).
  if (!m || m[2] !== p.program) return command;
  return `${m[1]}${m[2]} ${flags}${command.slice(m[0].length)}`;
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
