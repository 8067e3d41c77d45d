import type { Action } from './action.js';
import { LaunchedEnvs, launchedCommands, type CompileLine, type LaunchedRun, type LaunchReport, type Launcher } from './launcher.js';

/**
 * Compiles through icecream (`icecc g++ ...`). Its scheduler finds the hosts and their slots, which a
 * client cannot ask for, so the slots are given (distribute.jobs); where each compile ran is icecc's
 * to tell (icemon), not reported here. Like distcc, icecc compiles here when no host can take a job.
 */
export interface IceccOptions {
  readonly slots: number;
  readonly program?: string;
  readonly compileLine: (action: Action) => CompileLine | undefined;
}

export class IceccLauncher implements Launcher {
  readonly tool = 'icecc';
  readonly slots: number;
  private launched = 0;
  private readonly envs = new LaunchedEnvs();

  constructor(private readonly o: IceccOptions) {
    this.slots = o.slots;
  }

  launch(action: Action): LaunchedRun | undefined {
    const line = this.o.compileLine(action);
    if (!line) return undefined;
    const run = launchedCommands(action, line, this.tool, this.o.program ?? 'icecc');
    if (!run) return undefined;
    this.launched++;
    return { commands: run.commands, env: Object.keys(run.env).length ? this.envs.get(action.env, run.env) : action.env };
  }

  begin(): void {
    this.launched = 0;
  }

  report(): LaunchReport {
    return { tool: this.tool, slots: this.slots, hosts: [], launched: this.launched, fellBack: [] };
  }
}
