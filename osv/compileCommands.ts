import fs from 'node:fs';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import { withoutWrappers } from './compilerWrappers.js';

/**
 * compile_commands.json for the knobs in effect, so clangd and other tools see the flags make uses.
 * Written into the build folder (build/<mode>.<arch>/) and linked from build/, where clangd looks.
 */
export function compileCommands(root: string, actions: readonly Action[]): string {
  const entries: { directory: string; file: string; output: string; command: string }[] = [];
  for (const a of actions) {
    if (a.kind !== 'compile' || !a.source) continue;
    const command = a.commands.find((c) => c.includes(` ${a.source}`) && / -c\b/.test(c) && !c.startsWith('make '));
    if (!command) continue;
    // Tools read the compiler's flags from it: a wrapper in front (ccache, distcc) is left out.
    entries.push({ directory: path.resolve(root, a.cwd), file: a.source, output: a.outputs[0]!, command: withoutWrappers(command) });
  }
  entries.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
  return JSON.stringify(entries, null, 1) + '\n';
}

/** Write the file when its content changed, and point build/compile_commands.json at it. Returns its path. */
export function writeCompileCommands(root: string, outDir: string, actions: readonly Action[]): string {
  const rel = `${outDir}/compile_commands.json`;
  const file = path.join(root, rel);
  const text = compileCommands(root, actions);
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  const [buildRoot, ...rest] = outDir.split('/');
  if (buildRoot && rest.length > 0) {
    const link = path.join(root, buildRoot, 'compile_commands.json');
    const target = `${rest.join('/')}/compile_commands.json`;
    let existing: string | undefined;
    try {
      existing = fs.readlinkSync(link);
    } catch {
      existing = undefined;
    }
    if (existing !== target) {
      fs.rmSync(link, { force: true });
      fs.symlinkSync(target, link);
    }
  }
  return rel;
}

/**
 * The file as one process keeps it current: the same graph writes the same file, so it is written
 * again only for another graph, or when the file or the link to it changed on disk since this
 * process wrote it (a build of other knobs, by another process, rewrites one and moves the other).
 */
export class CompileCommandsFile {
  private written: { graph: object; stamp: string } | undefined;

  update(root: string, outDir: string, graph: object, actions: () => readonly Action[]): void {
    if (this.written?.graph === graph && this.written.stamp === stampOf(root, outDir)) return;
    writeCompileCommands(root, outDir, actions());
    this.written = { graph, stamp: stampOf(root, outDir) };
  }

  forget(): void {
    this.written = undefined;
  }
}

/** The file's stat and where build/compile_commands.json points. */
function stampOf(root: string, outDir: string): string {
  const st = fs.statSync(path.join(root, outDir, 'compile_commands.json'), { bigint: true, throwIfNoEntry: false });
  let link = '';
  try {
    link = fs.readlinkSync(path.join(root, outDir.split('/')[0]!, 'compile_commands.json'));
  } catch {
    // no link (yet)
  }
  return st ? `${st.size}:${st.mtimeNs}:${st.ino}:${link}` : '';
}
