import fs from 'node:fs';
import path from 'node:path';
import type { Action } from './action.js';
import { distccSlots, type DistccHostList } from './distccHosts.js';
import { CompileLineLauncher, type CompileLine, type FallBack, type LaunchReport } from './launcher.js';

/**
 * Compiles through distcc. distcc picks a host for each compile and, when one fails (refused, down,
 * timed out), compiles here instead and exits as the compiler did: such a compile succeeds and is
 * recorded like any other. What distcc did is read from its log (DISTCC_LOG: with a log file distcc
 * writes its info lines there, "compile X on HOST completed ok", and its warnings), so the build can
 * say how many compiles ran remotely and which fell back, and the compilers' own output stays clean.
 */
export interface DistccOptions {
  /** The host list the compiles get as DISTCC_HOSTS, and its reading. */
  readonly hostsText: string;
  readonly hosts: DistccHostList;
  /** Slots to use instead of the hosts' sum (distribute.jobs). */
  readonly slots?: number;
  /** distcc's log for this process's builds. */
  readonly logFile: string;
  /** The distcc program (default: `distcc` on PATH). */
  readonly program?: string;
  readonly compileLine: (action: Action) => CompileLine | undefined;
}

export class DistccLauncher extends CompileLineLauncher {
  readonly tool = 'distcc';
  readonly slots: number;

  constructor(private readonly o: DistccOptions) {
    super(o.compileLine, o.program ?? 'distcc');
    this.slots = o.slots ?? distccSlots(o.hosts);
  }

  protected override toolEnv(): Readonly<Record<string, string>> {
    return { DISTCC_HOSTS: this.o.hostsText, DISTCC_LOG: this.o.logFile };
  }

  override begin(): void {
    super.begin();
    fs.mkdirSync(path.dirname(this.o.logFile), { recursive: true });
    fs.writeFileSync(this.o.logFile, '');
  }

  report(): LaunchReport {
    let text = '';
    try {
      text = fs.readFileSync(this.o.logFile, 'utf8');
    } catch {
      // no compile was launched
    }
    return { tool: this.tool, slots: this.slots, hosts: this.o.hosts.hosts.map((h) => h.spec), launched: this.launched, ...readDistccLog(text) };
  }
}

export interface DistccLogReading {
  remote: number;
  here: string[];
  byHost: Record<string, number>;
  fellBack: FallBack[];
  /** distcc's error lines, distinct, at most ten (why hosts failed, or why a compile could not be sent). */
  errors: string[];
}

const LINE = /^distcc\[(\d+)\] (?:\(\w+\) )?(.*)$/;

/** Read distcc's log lines (info level: one process's lines carry its pid). */
export function readDistccLog(text: string): DistccLogReading {
  const out: DistccLogReading = { remote: 0, here: [], byHost: {}, fellBack: [], errors: [] };
  const pending = new Map<string, { error?: string; fallBack?: Omit<FallBack, 'source'>; command?: string }>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const pid = m[1]!;
    const msg = m[2]!;
    const state = pending.get(pid) ?? {};
    pending.set(pid, state);
    let w: RegExpExecArray | null;
    if (msg.startsWith('ERROR: ')) {
      state.error = msg.slice('ERROR: '.length);
      if (out.errors.length < 10 && !out.errors.includes(state.error)) out.errors.push(state.error);
    } else if ((w = /^Warning: failed to distribute .+ to (\S+), running locally instead$/.exec(msg))) {
      state.fallBack = { host: w[1]!, reason: state.error ?? 'the host failed' };
    } else if (/^Warning: failed to distribute, running locally instead$/.test(msg)) {
      state.fallBack = { reason: state.error ?? 'no host could take it: each was backing off after a failure (DISTCC_BACKOFF_PERIOD, 60 s by default)' };
    } else if ((w = /^Warning: Couldn't find a host in (\d+) attempts, retrying locally$/.exec(msg))) {
      state.fallBack = { reason: `no host took it in ${w[1]} attempts${state.error ? ` (${state.error})` : ''}` };
    } else if (/^Warning: remote compilation of '.+' failed, retrying locally$/.test(msg)) {
      state.fallBack = { reason: 'the remote compile failed and the local one was tried' };
    } else if ((w = /^exec on localhost: (.*)$/.exec(msg))) {
      state.command = w[1]!;
    } else if ((w = /^compile (.+) on (\S+) completed ok$/.exec(msg))) {
      const [, named, host] = w as unknown as [string, string, string];
      // A source distcc does not take as one (`.S`: "no visible input file") it names "(null)".
      const source = named === '(null)' ? (sourceIn(state.command) ?? named) : named;
      if (state.fallBack) out.fellBack.push({ source, ...state.fallBack });
      else if (host === 'localhost') out.here.push(source);
      else {
        out.remote++;
        out.byHost[host] = (out.byHost[host] ?? 0) + 1;
      }
      pending.delete(pid);
    } else if (msg.startsWith('exit: code ')) {
      pending.delete(pid);
    }
  }
  return out;
}

/** The source file a compiler command names (distcc logs the words as given, joined by spaces). */
function sourceIn(command: string | undefined): string | undefined {
  const words = command?.split(' ') ?? [];
  return words.find((w, i) => words[i - 1] !== '-o' && !w.startsWith('-') && /\.(?:c|cc|cpp|cxx|c\+\+|C|S|sx|s|m|mm)$/.test(w));
}
