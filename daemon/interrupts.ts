import { isStopped } from '../base/process.js';
import type { LockHolder } from './session.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM while `osvd build` runs, as make has them: the first stops the build
 * (its commands are killed; through the daemon, the client asks it to stop the build and waits until
 * it has), a second exits at once. The command then exits 128 + the signal's number (130 for Ctrl-C).
 */
export class Interrupts {
  private readonly controller = new AbortController();
  private received: NodeJS.Signals | undefined;
  private readonly handler = (sig: NodeJS.Signals): void => {
    if (this.received) process.exit(exitCodeOf(sig));
    this.received = sig;
    this.controller.abort(sig);
    for (const f of this.listeners) f();
  };
  private readonly listeners: (() => void)[] = [];

  constructor() {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  /** Aborted at the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The exit code the signal received asks for, or undefined when none came. */
  get exitCode(): number | undefined {
    return this.received ? exitCodeOf(this.received) : undefined;
  }

  onInterrupt(f: () => void): void {
    this.listeners.push(f);
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

function exitCodeOf(sig: NodeJS.Signals): number {
  return sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 1;
}

/**
 * What a build that waits for the tree's build lock says; a holder stopped by a signal (Ctrl-Z on a
 * one-shot build) would hold it until continued, and is named so.
 */
export function waitingFor(holder: LockHolder | undefined): string {
  if (!holder) return 'waiting for another osvd process that builds in this tree';
  const since = new Date(holder.since).toTimeString().slice(0, 8);
  const stopped = isStopped(holder.pid) ? `; it is stopped (Ctrl-Z?): fg in its terminal, or kill -CONT ${holder.pid}` : '';
  return `waiting for the build of pid ${holder.pid} (${holder.command}), building since ${since}${stopped}`;
}
