import type { Action } from './action.js';

/**
 * A launcher (distcc, icecc) runs compiles on other machines: it wraps a compile's command line when
 * the action runs, and nowhere else. Keys are computed from the action's own commands, so an object
 * compiled remotely is the same entry as one compiled here, and a build with the launcher finds the
 * results of a build without it.
 */
export interface Launcher {
  readonly tool: string;
  /** How many launched actions may run at once (the hosts' slots); the others keep the local job count. */
  readonly slots: number;
  /** The commands and environment to run this action with, or undefined when it runs here, as it is. */
  launch(action: Action): LaunchedRun | undefined;
  /** A build starts: what the launcher said before is forgotten. */
  begin(): void;
  /** What the launcher said since `begin`: where the compiles ran, which fell back to this machine. */
  report(): LaunchReport;
}

export interface LaunchedRun {
  readonly commands: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface LaunchReport {
  readonly tool: string;
  readonly slots: number;
  /** The hosts as the user named them. */
  readonly hosts: readonly string[];
  /** Actions started through the launcher. */
  readonly launched: number;
  /** Of the compiles that succeeded, how many ran on another host (unknown when the tool does not say). */
  readonly remote?: number;
  /** The sources the tool compiled here by choice: a `localhost` entry, or not distributable (assembler). */
  readonly here?: readonly string[];
  /** Compiles the tool meant to send away but ran here because a host failed (the build does not fail for it). */
  readonly fellBack: readonly FallBack[];
  /** Successful remote compiles per host. */
  readonly byHost?: Readonly<Record<string, number>>;
  /** The tool's own error messages (why a host failed), distinct, a few. */
  readonly errors?: readonly string[];
}

export interface FallBack {
  readonly source: string;
  /** The host that failed; none when every host was backing off after earlier failures. */
  readonly host?: string;
  readonly reason: string;
}

/** Where a launcher may act on a compile: which of its command lines calls the compiler, and the wrappers already on that line. */
export interface CompileLine {
  readonly index: number;
  /** Wrapper programs before the compiler on that line (`ccache`, `distcc`, ...), by base name. */
  readonly wrappers: readonly string[];
  /** Arguments the line needs when a launcher runs it (an explicit -MF: see osv/compilerWrappers.ts). */
  readonly launchArgs?: readonly string[];
}

/** Wrappers that distribute (or cache remotely) by themselves. */
const DISTRIBUTORS = new Set(['icecc', 'sccache', 'distcc']);

/**
 * A compile's commands with `program` (the launcher) put in front of its compiler; when the line runs
 * ccache, ccache is told to put it there itself (CCACHE_PREFIX, its documented way), so the cache is
 * looked up before anything is sent away. A line that already runs the tool is launched as it is;
 * undefined when it runs another distributing wrapper (it stays as the user wrote it) or cannot be
 * rewritten safely.
 */
export function launchedCommands(action: Action, line: CompileLine, tool: string, program: string): { commands: readonly string[]; env: Record<string, string> } | undefined {
  if (line.wrappers.some((w) => DISTRIBUTORS.has(w) && w !== tool)) return undefined;
  let text = action.commands[line.index] ?? '';
  let env: Record<string, string> = {};
  if (line.wrappers.includes('ccache') && !line.wrappers.includes(tool)) env = { CCACHE_PREFIX: program };
  else if (!line.wrappers.includes(tool)) {
    const wrapped = prefixProgram(text, program);
    if (wrapped === undefined) return undefined;
    text = wrapped;
  }
  text = withArgs(text, line.launchArgs ?? []);
  return { commands: action.commands.map((c, i) => (i === line.index ? text : c)), env };
}

/** A command line with arguments added at its end, quoted for the shell where they need it. */
export function withArgs(line: string, args: readonly string[]): string {
  return [line, ...args.map((a) => (/^[\w./+=,:@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
}

/**
 * The line with `program` run in front of its first word, after any leading `NAME=value` assignments
 * (`distcc g++ -c ...`); undefined when the assignments are quoted (not worth parsing here).
 */
export function prefixProgram(line: string, program: string): string | undefined {
  const m = /^(\s*(?:[A-Za-z_][A-Za-z0-9_]*=[^\s'"\\$`]*\s+)*)(?=[^\s'"])/.exec(line);
  if (!m) return undefined;
  const rest = line.slice(m[1]!.length);
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(rest)) return undefined;
  return `${m[1]}${program} ${rest}`;
}

/**
 * What every launcher that wraps a compile's command line shares: finding the compile line, putting the
 * tool in front of its compiler, the environment it runs with, and counting what was launched. A
 * launcher adds the environment its tool reads (`toolEnv`) and says what the tool did (`report`).
 */
export abstract class CompileLineLauncher implements Launcher {
  abstract readonly tool: string;
  abstract readonly slots: number;
  protected launched = 0;
  private readonly envs = new LaunchedEnvs();

  protected constructor(
    private readonly compileLine: (action: Action) => CompileLine | undefined,
    private readonly program: string,
  ) {}

  /** Variables the tool reads, on top of the action's environment and the wrapping's own (CCACHE_PREFIX). */
  protected toolEnv(): Readonly<Record<string, string>> {
    return {};
  }

  launch(action: Action): LaunchedRun | undefined {
    const line = this.compileLine(action);
    if (!line) return undefined;
    const run = launchedCommands(action, line, this.tool, this.program);
    if (!run) return undefined;
    this.launched++;
    const additions = { ...run.env, ...this.toolEnv() };
    // No additions: the action's own environment object, so the executor's shell for it is reused.
    return { commands: run.commands, env: Object.keys(additions).length ? this.envs.get(action.env, additions) : action.env };
  }

  begin(): void {
    this.launched = 0;
  }

  abstract report(): LaunchReport;
}

/** One environment object per action environment and additions: the executor keeps its shells per environment. */
export class LaunchedEnvs {
  private readonly envs = new WeakMap<object, Map<string, Readonly<Record<string, string>>>>();

  get(env: Readonly<Record<string, string>>, additions: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    let byAdditions = this.envs.get(env);
    if (!byAdditions) this.envs.set(env, (byAdditions = new Map()));
    const key = JSON.stringify(additions);
    let launched = byAdditions.get(key);
    if (!launched) byAdditions.set(key, (launched = { ...env, ...additions }));
    return launched;
  }
}
