import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Action } from './action.js';
import type { LaunchedRun } from './launcher.js';
import { ToolMissingError } from '../base/errors.js';
import { killGroups, noteGroup, stopGroups, type JobGroup } from '../base/jobGroups.js';

export interface ExecResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  /** stdout and stderr, interleaved as they came, cut at OUTPUT_LIMIT. */
  readonly output: string;
  /** The command that failed, when one did. */
  readonly failedCommand?: string;
  readonly durationMs: number;
}

const OUTPUT_LIMIT = 64 * 1024;
const SHELL = '/bin/sh';
const DONE = '__osvd_done__';
const FAIL = '__osvd_fail';
const LINE = '__osvd_line';
const STATUS = '__osvd_status';
const SAID = '__osvd_said';
/** Defined once in each shell: remember which line failed, keep its status. */
const PRELUDE = `${FAIL}() { ${LINE}=$2; return "$1"; }\n`;
/** Characters and first words for which make hands a line to the shell instead of running it directly. */
const SHELL_CHARS = /[#;"*?[\]&|<>(){}$`'\\^~!\n]/;
const SHELL_WORDS = new Set(['.', ':', 'return', 'alias', 'unalias', 'hash', 'getopts', 'local', 'command', 'source', 'break', 'case', 'cd', 'continue', 'eval', 'exec', 'exit', 'export', 'for', 'if', 'read', 'readonly', 'set', 'shift', 'test', 'times', 'trap', 'ulimit', 'umask', 'unset', 'wait', 'while', '[']);

export function isSimpleCommand(line: string): boolean {
  if (SHELL_CHARS.test(line)) return false;
  const first = FIRST_WORD.exec(line)?.[1];
  return first !== undefined && !first.includes('=') && !SHELL_WORDS.has(first);
}

/** A line's first word, without splitting the whole line (a compile's is over a kilobyte). */
const FIRST_WORD = /^\s*(\S+)/;

/**
 * The `mkdir -p DIR...` lines an action starts with (OSv's `$(makedir)` before each compile) are done
 * here, as ninja makes output folders itself: a process less per compile, about half of what a
 * one-TU edit cost the machine with the stub compiler. Only plain lines, and only at the start
 * (so that nothing before them could fail first), in a working folder that exists (else the shell's
 * `cd` fails, as make's would). Returns how many lines were done, or the first failure.
 */
function makeFolders(commands: readonly string[], cwd: string): { lines: number; failed?: { command: string; message: string } } {
  let lines = 0;
  for (const c of commands) {
    const words = FIRST_WORD.exec(c)?.[1] === 'mkdir' && isSimpleCommand(c) ? c.trim().split(/\s+/) : [];
    if (words[0] !== 'mkdir' || words[1] !== '-p' || words.length < 3 || words.slice(2).some((w) => w.startsWith('-'))) break;
    if (lines === 0 && !fs.existsSync(cwd)) break;
    for (const dir of words.slice(2)) {
      try {
        fs.mkdirSync(path.resolve(cwd, dir), { recursive: true });
      } catch (err) {
        return { lines, failed: { command: c, message: `mkdir: cannot create directory '${dir}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` } };
      }
    }
    lines++;
  }
  return { lines };
}

/**
 * Runs actions' commands as make does: each recipe line as `/bin/sh -c <line>`, in order, stopping at
 * the first failure. Starting a process from Node costs several milliseconds of the main thread (it
 * forks the whole runtime), so commands are started by small long-lived shells instead: Node writes
 * one line per action to a shell's stdin and reads back an exit status; the shell does the forking.
 */
export class ShellPool {
  private readonly idle = new Map<string, ShellWorker[]>();
  private readonly all = new Set<ShellWorker>();
  private readonly scratch: string;
  private workers = 0;
  /** Counts kill()s: a shell that finished starting after one is not used. */
  private kills = 0;
  /** Which shells an environment's actions use, by the environment (the import shares one per kind). */
  private readonly envKeys = new WeakMap<object, string>();

  /**
   * `niceness` > 0 runs the commands below the caller's priority (the daemon stays responsive).
   * `scratchParent` holds the commands' captured output (default: the system's temporary folder).
   */
  constructor(private readonly niceness = 0, scratchParent = os.tmpdir()) {
    this.scratch = fs.mkdtempSync(path.join(scratchParent, 'osvd-run-'));
  }

  /** Run the action's commands, or those a launcher gave for it (`launched`). */
  async run(action: Action, root: string, launched?: LaunchedRun): Promise<ExecResult> {
    const started = performance.now();
    const { commands, env } = launched ?? action;
    const cwd = path.resolve(root, action.cwd);
    const made = makeFolders(commands, cwd);
    if (made.failed) return { ok: false, exitCode: 1, output: made.failed.message, failedCommand: made.failed.command, durationMs: performance.now() - started };
    if (made.lines === commands.length) return { ok: true, exitCode: 0, output: '', durationMs: performance.now() - started };
    let envKey = this.envKeys.get(env);
    if (envKey === undefined) this.envKeys.set(env, (envKey = JSON.stringify(env)));
    const kills = this.kills;
    const worker = this.idle.get(envKey)?.pop() ?? (await this.startWorker(env));
    if (kills !== this.kills) {
      killGroups([worker.group]);
      throw new Error('the build was stopped');
    }
    // Like make: a line without shell syntax runs directly, any other through `/bin/sh -c`. The group
    // runs in the long-lived shell itself (no extra fork); a failing line notes its index and stops.
    // The output goes to the worker's own file, read only when the shell says it is not empty (`test
    // -s` is built into the shell): a quiet compile costs no file operation here.
    const steps = commands.map((c, i) => (i < made.lines ? '' : `{ ${isSimpleCommand(c) ? c : `${SHELL} -c ${quote(c)}`} || ${FAIL} $? ${i}; }`)).filter(Boolean);
    const script = `${LINE}=; { cd ${quote(cwd)} && ${steps.join(' && ')}; } >${quote(worker.outFile)} 2>&1 </dev/null; ${STATUS}=$?; [ -s ${quote(worker.outFile)} ] && ${SAID}=1 || ${SAID}=0; echo "${DONE} $${STATUS} $${SAID} $${LINE}"\n`;
    let done: ShellDone;
    try {
      done = await worker.send(script);
    } catch (err) {
      this.all.delete(worker);
      throw err;
    }
    // Back to the idle shells, unless kill() ended it meanwhile (its command had just finished).
    if (this.all.has(worker)) {
      const list = this.idle.get(envKey) ?? [];
      list.push(worker);
      this.idle.set(envKey, list);
    }
    const durationMs = performance.now() - started;
    let output = '';
    if (done.said) {
      try {
        const buf = fs.readFileSync(worker.outFile);
        output = buf.subarray(0, OUTPUT_LIMIT).toString('utf8') + (buf.length > OUTPUT_LIMIT ? '\n[output cut]\n' : '');
      } catch {
        // no output file: the shell could not even redirect
      }
    }
    if (done.status === 0) return { ok: true, exitCode: 0, output, durationMs };
    const failedCommand = commands[done.line ?? 0];
    return { ok: false, exitCode: done.status, output, failedCommand, durationMs };
  }

  /**
   * Stop every command now: each shell's process group (the shell, the commands it started and
   * theirs) gets SIGTERM, SIGKILL if it is still there after a grace (stopGroups); wait until none of
   * it runs. Runs in progress fail; the pool starts new shells
   * for the next build.
   */
  async kill(): Promise<void> {
    this.kills++;
    const groups = [...this.all].map((w) => w.group);
    this.all.clear();
    this.idle.clear();
    await stopGroups(groups);
  }

  /** End every shell and remove the scratch folder. */
  close(): void {
    for (const w of this.all) w.close();
    this.all.clear();
    this.idle.clear();
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }

  private async startWorker(env: Readonly<Record<string, string>>): Promise<ShellWorker> {
    const worker = await ShellWorker.start(env, this.niceness, path.join(this.scratch, `out-${this.workers++}`), this.scratch);
    this.all.add(worker);
    return worker;
  }
}

/** What a shell said when an action's commands ended: their status, whether they printed anything, the failed line. */
interface ShellDone {
  readonly status: number;
  readonly said: boolean;
  readonly line: number | undefined;
}

class ShellWorker {
  private buffer = '';
  private pending: { resolve: (done: ShellDone) => void; reject: (err: Error) => void } | undefined;
  private dead: Error | undefined;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    /** Where this shell's commands write their output (one action at a time). */
    readonly outFile: string,
    /** The process group the shell leads: it and every command it starts. */
    readonly group: JobGroup,
  ) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.startsWith(DONE) && this.pending) {
          const p = this.pending;
          this.pending = undefined;
          const [status, said, failed] = line.slice(DONE.length + 1).split(' ');
          p.resolve({ status: Number(status), said: said === '1', line: failed ? Number(failed) : undefined });
        }
      }
    });
    child.on('exit', (code, signal) => {
      this.dead = new Error(`the shell running build commands exited (${signal ?? code})`);
      this.pending?.reject(this.dead);
      this.pending = undefined;
    });
    child.stdin.on('error', () => undefined);
  }

  /** `groupsDir`: where the shell's process group is noted (see base/jobGroups.ts). */
  static start(env: Readonly<Record<string, string>>, niceness: number, outFile: string, groupsDir: string): Promise<ShellWorker> {
    return new Promise((resolve, reject) => {
      // A group of its own: a build is stopped by killing its groups, and a terminal's Ctrl-C reaches
      // osvd alone, which stops the build it runs (and only that).
      const child = spawn(SHELL, [], { env: { ...env }, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
      const group = child.pid !== undefined ? noteGroup(groupsDir, child.pid) : { pgid: 0, startTime: '' };
      if (niceness > 0 && child.pid !== undefined) {
        try {
          os.setPriority(child.pid, Math.min(19, os.getPriority(child.pid) + niceness));
        } catch {
          // not allowed: run at normal priority
        }
      }
      child.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new ToolMissingError(SHELL, { cause: err }) : err));
      child.once('spawn', () => {
        child.stdin.write(PRELUDE);
        resolve(new ShellWorker(child, outFile, group));
      });
    });
  }

  send(script: string): Promise<ShellDone> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.stdin.write(script);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
