import { baseEnvironment } from '../osv/passedEnv.js';
import type { BuildReport } from './answers.js';
import type { BuildRequest, ProgressEvent } from './buildChoices.js';
import type { DaemonClient } from './client.js';
import { Interrupts, waitingFor } from './interrupts.js';
import { printBuild } from './print.js';
import { ProgressPrinter, type TerminalChoice } from './progress.js';
import { printJson, say } from './say.js';
import type { LockHolder } from './session.js';

/**
 * What `osvd build` does around a build wherever it runs (the daemon, this process): the progress it
 * prints, Ctrl-C, the summary, the exit code. Kept to small modules: the short road of `osvd build`
 * through a daemon (quick.ts) loads this without the command-line framework.
 */

export interface BuildOutput {
  json?: boolean;
  quiet?: boolean;
}

/** The build itself: given where its progress goes, what it says while it waits for the lock, and Ctrl-C. */
export type BuildBody = (onEvent: (e: ProgressEvent) => void, onWait: (holder: LockHolder | undefined) => void, interrupts: Interrupts) => Promise<BuildReport>;

export async function runBuild(opts: BuildOutput, terminal: TerminalChoice, body: BuildBody): Promise<void> {
  const progress = new ProgressPrinter(terminal);
  const onWait = (holder: LockHolder | undefined): void => say({ json: opts.json }, waitingFor(holder));
  // Ctrl-C stops the build this command asked for, through the daemon too (see interrupts.ts).
  const interrupts = new Interrupts();
  let report: BuildReport | undefined;
  try {
    report = await body(progress.onEvent, onWait, interrupts);
  } catch (err) {
    if (interrupts.exitCode === undefined) throw err;
  } finally {
    progress.finish();
    interrupts.dispose();
  }
  if (interrupts.exitCode !== undefined || !report) {
    if (opts.json) printJson({ ok: false, error: { code: 'INTERRUPTED', message: 'interrupted: the build was stopped and its commands killed' } });
    else process.stderr.write('osvd: interrupted: the build was stopped and its commands killed\n');
    process.exitCode = interrupts.exitCode ?? 1;
    return;
  }
  printBuild(report, { json: opts.json, quiet: opts.quiet });
  if (!report.ok) process.exitCode = 1;
}

/** The build done by the tree's daemon (which refuses it if this environment would build differently): Ctrl-C asks it to stop that build. */
export function daemonBuild(client: DaemonClient, sets: readonly string[], request: BuildRequest, terminal: TerminalChoice): BuildBody {
  return async (onEvent, onWait, interrupts) => {
    const params = { sets, events: terminal.mode !== 'silent', verbose: terminal.verbose, env: baseEnvironment(process.env), ...request };
    const call = client.start<BuildReport>('build', params, (e) =>
      (e as { type?: string }).type === 'waiting' ? onWait((e as { holder?: LockHolder }).holder) : onEvent(e as ProgressEvent),
    );
    interrupts.onInterrupt(() => void client.request('cancel', { build: call.id }).catch(() => undefined));
    const report = await call.result;
    client.close();
    return report;
  };
}
