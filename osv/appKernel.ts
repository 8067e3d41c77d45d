import fs from 'node:fs';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import { splitList } from './knobs.js';

/**
 * An app-specific kernel: the version script is derived from the app's ELF files, as OSv's
 * generate_app_version_script.sh does: the app's undefined dynamic symbols (objdump -wT), kept when
 * the kernel exports them, plus names the app looks up with dlsym. It is an action like any other,
 * so an app rebuilt with the same imported symbols writes the same script and the kernel is not relinked.
 */
export function appVersionScriptPath(outDir: string): string {
  return `${outDir}/app_version_script`;
}

export function exportedSymbolFiles(root: string, folder: string): string[] {
  try {
    return fs
      .readdirSync(path.join(root, folder))
      .filter((f) => f.endsWith('.symbols'))
      .sort()
      .map((f) => `${folder}/${f}`);
  } catch {
    return [];
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function appVersionScriptAction(options: {
  outDir: string;
  elfFiles: string;
  extraSymbols: string;
  symbolFiles: readonly string[];
  env: Readonly<Record<string, string>>;
}): Action {
  const out = appVersionScriptPath(options.outDir);
  const elves = splitList(options.elfFiles);
  const extra = splitList(options.extraSymbols);
  const tmp = `${out}.tmp`;
  const dynamic = `${out}.dynsym`;
  // objdump writes to a file first: in a pipeline its failure (not installed, not an ELF file)
  // would be hidden by the exit status of the pipeline's last command.
  // Exported names first, a marker, then the app's wants; print the wants the kernel exports.
  const command =
    `mkdir -p ${quote(options.outDir)} && ` +
    `objdump -wT ${elves.map(quote).join(' ')} > ${quote(dynamic)} && ` +
    `{ cat ${options.symbolFiles.map(quote).join(' ') || '/dev/null'}; echo '--osvd--'; ` +
    `awk '$0 ~ /[*]UND[*]/ { print $NF }' ${quote(dynamic)}; ` +
    `printf '%s\\n' ${extra.map(quote).join(' ')}; } | ` +
    `awk 'x == 0 && $0 == "--osvd--" { x = 1; next } x == 0 { k[$1] = 1; next } ($1 in k) { print $1 }' | LC_ALL=C sort -u | ` +
    `awk 'BEGIN { print "{"; print "\\tglobal:" } { print "\\t\\t" $1 ";" } END { print "\\tlocal: *;"; print "};" }' > ${quote(tmp)} && ` +
    `rm -f ${quote(dynamic)} && mv ${quote(tmp)} ${quote(out)}`;
  return {
    id: out,
    kind: 'generate',
    commands: [command],
    cwd: '.',
    env: options.env,
    keyEnv: {},
    inputs: [...elves, ...options.symbolFiles].sort(),
    orderAfter: [],
    outputs: [out],
  };
}
