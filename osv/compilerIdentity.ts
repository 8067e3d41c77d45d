import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { treePath } from '../graph/paths.js';

/**
 * The files a compiler is made of, found once per import: the driver the command names (looked up on
 * PATH as the shell would), the compilers proper and the assembler it runs (`-print-prog-name`), each
 * after the symbolic links that lead to it. Their contents are the compiler's identity in the key
 * (ccache's compiler_check=content, with what the driver runs added); hashing them is the file-hash
 * memo's job (by stat), so a build costs no process start per compile, and the import, which these
 * files also key (CXX_INCLUDES comes from the compiler), starts three per distinct compiler.
 */

/** What a gcc-like driver runs; names it does not know come back bare and are left out. */
const PROGRAMS_RUN = ['cc1', 'cc1plus', 'as'];
/** Symbolic links followed at most (a loop ends there). */
const MAX_LINKS = 40;

export class CompilerFiles {
  private readonly known = new Map<string, readonly string[]>();

  constructor(
    private readonly root: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /** The files of the compiler a command names as `program`, run in `cwd` (relative to the root). */
  of(program: string, cwd: string): readonly string[] {
    const key = `${cwd}\n${program}`;
    let files = this.known.get(key);
    if (files === undefined) this.known.set(key, (files = this.resolve(program, cwd)));
    return files;
  }

  /** Every file found so far (the import is valid while they hash the same). */
  all(): string[] {
    return [...new Set([...this.known.values()].flat())].sort();
  }

  private resolve(program: string, cwd: string): readonly string[] {
    const dir = path.resolve(this.root, cwd);
    const driver = this.locate(program, dir);
    if (driver === undefined) return [];
    const files = chainOf(driver);
    for (const name of PROGRAMS_RUN) {
      const r = spawnSync(driver, [`-print-prog-name=${name}`], { cwd: dir, env: { ...this.env }, encoding: 'utf8', timeout: 20_000 });
      const printed = r.status === 0 ? r.stdout.trim() : '';
      const found = printed === '' || printed.includes('\n') ? undefined : this.locate(printed, dir);
      if (found !== undefined) files.push(...chainOf(found));
    }
    return [...new Set(files)].map((f) => treePath(this.root, '.', f));
  }

  /** As the shell finds a command: a name with a slash from `dir`, else the first executable on PATH. */
  private locate(program: string, dir: string): string | undefined {
    if (program.includes('/')) return isExecutable(path.resolve(dir, program)) ? path.resolve(dir, program) : undefined;
    for (const d of (this.env.PATH ?? '').split(':')) {
      const candidate = path.resolve(dir, d || '.', program);
      if (isExecutable(candidate)) return candidate;
    }
    return undefined;
  }
}

/** The path, then each symbolic link's target in turn, ending at the file itself. */
function chainOf(file: string): string[] {
  const chain = [file];
  let at = file;
  for (let i = 0; i < MAX_LINKS; i++) {
    let target: string;
    try {
      target = fs.readlinkSync(at);
    } catch {
      break;
    }
    at = path.resolve(path.dirname(at), target);
    chain.push(at);
  }
  return chain;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
