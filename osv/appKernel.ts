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

/** Whether the app knob names an OSv manifest (`/guest/path: host/path` lines) rather than ELF files. */
export function isManifest(value: string): boolean {
  const files = splitList(value);
  return files.length === 1 && /\.manifest(\.skel)?$/.test(files[0]!);
}

export function appVersionScriptAction(options: {
  outDir: string;
  /** Comma-separated ELF files, or one OSv manifest whose ELF files are read. */
  elfFiles: string;
  extraSymbols: string;
  symbolFiles: readonly string[];
  env: Readonly<Record<string, string>>;
}): Action {
  const out = appVersionScriptPath(options.outDir);
  const extra = splitList(options.extraSymbols);
  const tmp = `${out}.tmp`;
  const depfile = `${out}.d`;
  const dynamic = `${out}.dynsym`;
  const manifest = isManifest(options.elfFiles) ? splitList(options.elfFiles)[0]! : undefined;
  const elves = manifest ? [] : splitList(options.elfFiles);
  // The ELF files, one per line: named by the knob, or the manifest's host files that are ELF files
  // (host paths relative to the manifest's folder; globs and symbolic links are not followed).
  const listElves = manifest
    ? `sed -e 's/#.*//' ${quote(manifest)} | grep -v '^[[:space:]]*\\[' | grep -v -- '->' | sed -n 's/^[^:]*:[[:space:]]*//p' | ` +
      `while read -r f; do case "$f" in /*) p="$f";; *) p=${quote(path.posix.dirname(manifest))}/"$f";; esac; ` +
      `if [ -f "$p" ] && [ "$(head -c 4 "$p" | tail -c 3)" = ELF ]; then printf '%s\\n' "$p"; fi; done`
    : `printf '%s\\n' ${elves.map(quote).join(' ')}`;
  // objdump writes to a file first: in a pipeline its failure (not installed, not an ELF file)
  // would be hidden by the exit status of the pipeline's last command.
  // Exported names first, a marker, then the app's wants; print the wants the kernel exports.
  // The ELF files read go into a depfile, so a rebuilt app reruns this action (and only a changed
  // script relinks the kernel). `target: deps`, with the space: `target:/abs/app.so` is no rule to a
  // depfile reader (a drive letter), and a depfile that does not parse leaves the run unrecorded.
  const command =
    `mkdir -p ${quote(options.outDir)} && ${listElves} > ${quote(tmp)}.elves && ` +
    `{ printf '%s: ' ${quote(out)}; sed -e 's/[ #\\\\]/\\\\&/g' < ${quote(tmp)}.elves | tr '\\n' ' '; echo; } > ${quote(depfile)} && ` +
    `{ while IFS= read -r f; do objdump -wT "$f" || exit $?; done < ${quote(tmp)}.elves; } > ${quote(dynamic)} && ` +
    `{ cat ${options.symbolFiles.map(quote).join(' ') || '/dev/null'}; echo '--osvd--'; ` +
    `awk '$0 ~ /[*]UND[*]/ { print $NF }' ${quote(dynamic)}; ` +
    `printf '%s\\n' ${extra.map(quote).join(' ')}; } | ` +
    `awk 'x == 0 && $0 == "--osvd--" { x = 1; next } x == 0 { k[$1] = 1; next } ($1 in k) { print $1 }' | LC_ALL=C sort -u | ` +
    `awk 'BEGIN { print "{"; print "\\tglobal:" } { print "\\t\\t" $1 ";" } END { print "\\tlocal: *;"; print "};" }' > ${quote(tmp)} && ` +
    `rm -f ${quote(tmp)}.elves ${quote(dynamic)} && mv ${quote(tmp)} ${quote(out)}`;
  return {
    id: out,
    kind: 'generate',
    commands: [command],
    cwd: '.',
    env: options.env,
    keyEnv: {},
    inputs: [...(manifest ? [manifest] : elves), ...options.symbolFiles].sort(),
    orderAfter: [],
    outputs: [out, depfile],
    outputsOpen: false,
    depfile,
  };
}
