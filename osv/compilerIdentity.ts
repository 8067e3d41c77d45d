import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { treePath } from '../graph/paths.js';
import { isCompilerName } from './recipes.js';

/**
 * The files a compiler is made of, found once per import: the driver the command names (looked up on
 * PATH as the shell would), the compilers proper and the assembler it runs (`-print-prog-name`), each
 * after the symbolic links that lead to it. Their contents are the compiler's identity in the key
 * (ccache's compiler_check=content, with what the driver runs added); hashing them is the file-hash
 * memo's job (by stat), so a build costs no process start per compile, and the import, which these
 * files also key (CXX_INCLUDES comes from the compiler), starts three per distinct compiler. The import
 * starts them while make's dry run is still printing (see `notice`), so that the ~80 ms they cost a
 * large process when started one after the other overlap make's run.
 */

/** What a gcc-like driver runs; names it does not know come back bare and are left out. */
const PROGRAMS_RUN = ['cc1', 'cc1plus', 'as'];
/** Symbolic links followed at most (a loop ends there). */
const MAX_LINKS = 40;

export class CompilerFiles {
  private readonly known = new Map<string, readonly string[]>();
  /** Resolutions started ahead (`prefetch`), not yet settled. */
  private readonly pending = new Map<string, Promise<void>>();
  /** First words of recipe lines already looked at (`notice`). */
  private readonly noticed = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /** The files of the compiler a command names as `program`, run in `cwd` (relative to the root). */
  of(program: string, cwd: string): readonly string[] {
    const key = keyOf(program, cwd);
    let files = this.known.get(key);
    if (files === undefined) {
      const located = this.locate(program, cwd);
      const asked = located && spawnSync('/bin/sh', ['-c', ASK_ALL, located.driver], this.spawnOptions(located.dir));
      this.known.set(key, (files = this.filesOf(located, asked ? answersOf(asked.status === 0 ? asked.stdout : undefined) : [])));
    }
    return files;
  }

  /**
   * A recipe line make printed, as it prints it: when its first word is a compiler driver not seen yet,
   * start resolving that driver (run in the root, as compiles are) without waiting. Lines that start
   * otherwise (`cd dir && g++ ...`, quoted words) are resolved by `of` when asked, as before.
   */
  notice(line: string): void {
    const m = FIRST_WORD.exec(line);
    if (!m || this.noticed.has(m[1]!)) return;
    this.noticed.add(m[1]!);
    if (isCompilerName(path.basename(m[1]!))) this.prefetch(m[1]!, '.');
  }

  /** Start resolving `program` in `cwd` in the background; `of` gives the same files once `settled`. */
  prefetch(program: string, cwd: string): void {
    const key = keyOf(program, cwd);
    if (this.known.has(key) || this.pending.has(key)) return;
    const located = this.locate(program, cwd);
    this.pending.set(
      key,
      (located ? askedAsync(located.driver, this.spawnOptions(located.dir)) : Promise.resolve([])).then((printed) => {
        this.pending.delete(key);
        if (!this.known.has(key)) this.known.set(key, this.filesOf(located, printed));
      }),
    );
  }

  /** Wait for every resolution `prefetch` started (they never reject: a failed run prints nothing). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending.values());
  }

  /** Every file found so far (the import is valid while they hash the same). */
  all(): string[] {
    return [...new Set([...this.known.values()].flat())].sort();
  }

  private spawnOptions(dir: string): { cwd: string; env: Record<string, string>; encoding: 'utf8'; timeout: number } {
    return { cwd: dir, env: { ...this.env }, encoding: 'utf8', timeout: 20_000 };
  }

  /** The driver, its links, and each program it printed (a path, or a name looked up as the shell would) with theirs. */
  private filesOf(located: { driver: string; dir: string } | undefined, printed: readonly string[]): readonly string[] {
    if (!located) return [];
    const files = chainOf(located.driver);
    for (const p of printed) {
      const found = p === '' || p.includes('\n') ? undefined : this.find(p, located.dir);
      if (found !== undefined) files.push(...chainOf(found));
    }
    return [...new Set(files)].map((f) => treePath(this.root, '.', f));
  }

  private locate(program: string, cwd: string): { driver: string; dir: string } | undefined {
    const dir = path.resolve(this.root, cwd);
    const driver = this.find(program, dir);
    return driver === undefined ? undefined : { driver, dir };
  }

  /** As the shell finds a command: a name with a slash from `dir`, else the first executable on PATH. */
  private find(program: string, dir: string): string | undefined {
    if (program.includes('/')) return isExecutable(path.resolve(dir, program)) ? path.resolve(dir, program) : undefined;
    for (const d of (this.env.PATH ?? '').split(':')) {
      const candidate = path.resolve(dir, d || '.', program);
      if (isExecutable(candidate)) return candidate;
    }
    return undefined;
  }
}

/** A recipe line's first word, after the blanks make may keep. */
const FIRST_WORD = /^[ \t]*([^ \t]+)/;

function keyOf(program: string, cwd: string): string {
  return `${cwd}\n${program}`;
}

/**
 * What the driver prints for each of PROGRAMS_RUN, asked by one shell: a process this large costs
 * ~8 ms of the event loop to start, a shell's own children almost nothing. Each answer ends with a
 * NUL; a driver that fails prints nothing for that program. The driver is the shell's $0.
 */
const ASK_ALL = `for p in ${PROGRAMS_RUN.join(' ')}; do out=$("$0" -print-prog-name=$p 2>/dev/null) && printf '%s' "$out"; printf '\\000'; done`;

/** The shell's answers, trimmed, one per program ('' for all of them when the shell failed). */
function answersOf(stdout: string | undefined): string[] {
  const answers = stdout?.split('\0') ?? [];
  return PROGRAMS_RUN.map((_, i) => (answers.length === PROGRAMS_RUN.length + 1 ? answers[i]!.trim() : ''));
}

function askedAsync(driver: string, options: { cwd: string; env: Record<string, string>; encoding: 'utf8'; timeout: number }): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', ASK_ALL, driver], options, (err, stdout) => resolve(answersOf(err ? undefined : stdout)));
  });
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
