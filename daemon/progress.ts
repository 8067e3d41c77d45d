import { stripAnsi } from '../base/ansi.js';

/**
 * Build progress on the client's terminal, with ninja's habits (its status_printer.cc and
 * line_printer.cc): on a smart terminal one status line, rewritten in place; in a pipe, a dumb
 * terminal or with -v, one plain line per finished action. What a command printed comes after its
 * status line, on lines of its own, with colours only where the terminal shows them; a failure names
 * the output and the command first. On stderr: stdout keeps the summary (and the JSON).
 */
export interface ProgressEvent {
  type: 'start' | 'done';
  id: string;
  output: string;
  kind: string;
  state?: 'ran' | 'restored' | 'cutoff' | 'upToDate' | 'failed';
  finished: number;
  total: number;
  durationMs?: number;
  etaMs?: number | null;
  commands?: readonly string[];
  printed?: string;
  command?: string;
  exitCode?: number | null;
  hint?: string;
}

/**
 * `tty`: one status line rewritten; `lines`: a line per finished action; `quiet`: no status, only what
 * commands printed and failures (ninja --quiet); `silent`: nothing (--json carries it all).
 */
export type ProgressMode = 'tty' | 'lines' | 'quiet' | 'silent';

export interface TerminalChoice {
  readonly mode: ProgressMode;
  /** Whether the terminal shows colours (then compilers are asked for them). */
  readonly colour: boolean;
  /** -v: print each command as it starts. */
  readonly verbose: boolean;
}

/** ninja's smart terminal: a tty whose TERM is not dumb. */
function isSmart(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && env.TERM !== undefined && env.TERM !== 'dumb';
}

/** Colours on a smart terminal, unless NO_COLOR is set; CLICOLOR_FORCE asks for them anywhere. */
export function supportsColour(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.CLICOLOR_FORCE && env.CLICOLOR_FORCE !== '0') return true;
  return isSmart(stream, env);
}

export function terminalChoice(
  opts: { quiet?: boolean; json?: boolean; verbose?: boolean },
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): TerminalChoice {
  const verbose = Boolean(opts.verbose) && !opts.json;
  const mode: ProgressMode = opts.json ? 'silent' : opts.quiet ? 'quiet' : isSmart(stream, env) && !verbose ? 'tty' : 'lines';
  return { mode, colour: !opts.json && supportsColour(stream, env), verbose };
}

/** A status line is redrawn at most this often, unless output must follow it or the build is done. */
const REDRAW_MS = 50;
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

export class ProgressPrinter {
  /** Whether the cursor is at the start of an empty line (ninja's have_blank_line_). */
  private blankLine = true;
  private lastDraw = -Infinity;
  /** What the status line last described. */
  private lastWhat: string | undefined;

  constructor(private readonly choice: TerminalChoice, private readonly out: NodeJS.WriteStream = process.stderr) {}

  onEvent = (raw: unknown): void => {
    const e = raw as ProgressEvent;
    const { mode, verbose } = this.choice;
    if (mode === 'silent') return;
    if (e.type === 'start') {
      if (verbose && e.commands?.length) this.printOnNewLine(e.commands.join('\n') + '\n');
      if (mode === 'tty') this.status(e, `${e.kind} ${e.output}`, false);
      return;
    }
    const says = Boolean(e.printed) || e.state === 'failed';
    if (mode === 'tty') {
      // An action found up to date moves the count on under the last thing that started: it is not work.
      const verb = e.state === 'restored' ? 'restore' : e.state === 'failed' ? 'FAILED' : e.state === 'cutoff' ? 'kept' : e.kind;
      const what = e.state === 'upToDate' ? this.lastWhat : `${verb} ${e.output}`;
      if (what !== undefined) this.status(e, what, says || e.finished === e.total);
    } else if (mode === 'lines' && (e.state === 'ran' || e.state === 'restored' || e.state === 'failed' || e.state === 'cutoff')) {
      const ms = e.state !== 'restored' ? ` ${Math.round(e.durationMs ?? 0)} ms` : '';
      const state = e.state === 'cutoff' ? 'kept (preprocessed input unchanged)' : e.state;
      this.printOnNewLine(`[${e.finished}/${e.total}] ${state} ${e.kind} ${e.output}${ms}\n`);
    }
    if (e.state === 'failed') {
      const failed = `FAILED: ${e.output}${e.exitCode != null ? ` (exit ${e.exitCode})` : ''}`;
      this.printOnNewLine(`${this.choice.colour ? `${RED}FAILED:${RESET}${failed.slice('FAILED:'.length)}` : failed}\n${e.command ? `${e.command}\n` : ''}`);
    }
    if (e.printed) this.printOnNewLine(this.choice.colour ? e.printed : stripAnsi(e.printed));
    if (e.hint) this.printOnNewLine(`${e.hint}\n`);
  };

  /** The build is over: the last status line stays, and what follows starts on a line of its own. */
  finish(): void {
    this.printOnNewLine('');
  }

  /** ninja's LinePrinter::Print on a smart terminal: over the previous status line, cut to the width. */
  private status(e: ProgressEvent, what: string, force: boolean): void {
    const now = Date.now();
    this.lastWhat = what;
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const eta = e.etaMs != null && e.finished < e.total && e.etaMs >= 1000 ? ` ETA ${formatSeconds(e.etaMs)}` : '';
    const line = `[${e.finished}/${e.total}${eta}] ${what}`;
    const width = this.out.columns ? this.out.columns : 0;
    this.out.write(`\r${width ? elideMiddle(line, width) : line}\x1b[K`);
    this.blankLine = false;
  }

  /** ninja's PrintOnNewLine: end the status line first, so it stays above what follows. */
  private printOnNewLine(text: string): void {
    if (!this.blankLine) this.out.write('\n');
    if (text) this.out.write(text.endsWith('\n') ? text : `${text}\n`);
    this.blankLine = true;
  }
}

function formatSeconds(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Cut a line to `width` columns by taking out its middle (ninja's ElideMiddle). */
export function elideMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 3) return text.slice(0, width);
  const margin = Math.floor((width - 3) / 2);
  return `${text.slice(0, margin)}...${text.slice(text.length - margin)}`;
}
