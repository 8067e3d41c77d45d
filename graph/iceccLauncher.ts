import type { Action } from './action.js';
import { CompileLineLauncher, type CompileLine, type LaunchReport } from './launcher.js';

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

export class IceccLauncher extends CompileLineLauncher {
  readonly tool = 'icecc';
  readonly slots: number;

  constructor(o: IceccOptions) {
    super(o.compileLine, o.program ?? 'icecc');
    this.slots = o.slots;
  }

  report(): LaunchReport {
    return { tool: this.tool, slots: this.slots, hosts: [], launched: this.launched, fellBack: [] };
  }
}
