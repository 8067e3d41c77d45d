import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Action } from '../graph/action.js';
import { crashPoint } from '../base/crashPoint.js';
import { moveInto } from '../base/moveInto.js';
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

/**
 * Write the file when its content changed, and point build/compile_commands.json at it. Returns its
 * path. The new text is written in `scratchDir` (this process's scratch folder, see cache/scratch.ts)
 * and renamed into place: a process killed while writing it leaves nothing in the build folder.
 */
export function writeCompileCommands(root: string, outDir: string, actions: readonly Action[], scratchDir: string): string {
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
    const tmp = path.join(scratchDir, 'compile_commands.json');
    fs.writeFileSync(tmp, text);
    crashPoint('compile-commands-written');
    moveInto(tmp, file);
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

/** What the file was last written from and the stamp it had then, as a process records it for the next. */
export interface WrittenCompileCommands {
  readonly fingerprint: string;
  readonly stamp: string;
}

/** Where that record is kept between processes (the daemon's settings), per build folder. */
export interface CompileCommandsMemory {
  get(outDir: string): WrittenCompileCommands | undefined;
  set(outDir: string, written: WrittenCompileCommands): void;
}

/**
 * The file as one process keeps it current: the same graph writes the same file, so it is written
 * again only for another graph, or when the file or the link to it changed on disk since this
 * process wrote it (a build of other knobs, by another process, rewrites one and moves the other).
 * A new process (a one-shot build, a daemon just started) finds from `memory` whether the file on
 * disk is the one these compiles give: at 50,000 TUs, making the file's text to compare it with the
 * one on disk cost ~180 MB of garbage and most of a second in each.
 */
export class CompileCommandsFile {
  private written: { graph: object; stamp: string } | undefined;

  constructor(private readonly memory?: CompileCommandsMemory) {}

  /** `scratchDir`: this process's scratch folder, where the new text is written before it is renamed into place. */
  update(root: string, outDir: string, graph: object, actions: () => readonly Action[], scratchDir: string): void {
    if (this.written?.graph === graph && this.written.stamp === stampOf(root, outDir)) return;
    const list = actions();
    const fingerprint = this.memory ? fingerprintOf(root, list) : '';
    const kept = this.memory?.get(outDir);
    const stamp = stampOf(root, outDir);
    if (!kept || kept.fingerprint !== fingerprint || kept.stamp !== stamp || stamp === '') writeCompileCommands(root, outDir, list, scratchDir);
    const now = stampOf(root, outDir);
    this.written = { graph, stamp: now };
    if (this.memory && (kept?.fingerprint !== fingerprint || kept.stamp !== now)) this.memory.set(outDir, { fingerprint, stamp: now });
  }

  forget(): void {
    this.written = undefined;
  }
}

/** Changes with anything the file's text is made from: the root and each compile's folder, source, object and commands. */
function fingerprintOf(root: string, actions: readonly Action[]): string {
  // Hashed a few hundred kilobytes at a time: an update per string cost more than making the file's text.
  const h = createHash('sha256');
  let chunk: string[] = [FORMAT, root];
  for (const a of actions) {
    if (a.kind !== 'compile' || !a.source) continue;
    chunk.push('', a.cwd, a.source, a.outputs[0] ?? '', ...a.commands);
    if (chunk.length >= 4096) {
      h.update(chunk.join('\0'));
      chunk = [];
    }
  }
  return h.update(chunk.join('\0')).digest('hex');
}

/** Changed whenever compileCommands writes another text for the same compiles. */
const FORMAT = 'compile-commands-1';

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
