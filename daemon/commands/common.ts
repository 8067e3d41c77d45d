import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../base/packageFiles.js';
import { openProjectBase, type ProjectBase, type ProjectOptions } from '../../osv/project.js';
import { sayStarting } from '../say.js';
import { DaemonClient } from '../client.js';

/** What every command shares: the options naming the tree, and the road to its daemon or to one-shot work. */
export interface CommonOptions {
  root?: string;
  config?: string;
  set: string[];
  json?: boolean;
  jobs?: number;
  daemon?: boolean;
}

export function common(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'the OSv tree (default: from osv.config.ts, else the current folder)')
    .option('--config <file>', 'an osv.config.ts to use')
    .option('--set <KEY=VALUE>', 'set a knob for this command (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON object')
    .option('--no-daemon', 'do the work in this process even when a daemon runs');
}

export function projectOptions(opts: CommonOptions): ProjectOptions {
  return { cwd: process.cwd(), root: opts.root, config: opts.config, jobs: opts.jobs };
}

/**
 * The commands' shared context: connections a command opened are closed when it ends, whether it
 * succeeded or not.
 */
export class CliContext {
  private readonly opened: DaemonClient[] = [];

  /** The tree, and a client of its daemon when one runs (and --no-daemon was not given). */
  async locate(opts: CommonOptions): Promise<{ base: ProjectBase; client: DaemonClient | undefined }> {
    const base = await openProjectBase(projectOptions(opts));
    const client = opts.daemon === false ? undefined : await DaemonClient.find(base.stateDir);
    if (client) {
      this.opened.push(client);
      sayStarting(client, opts);
    }
    return { base, client };
  }

  closeAll(): void {
    for (const c of this.opened.splice(0)) c.close();
  }
}

export function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The in-process answers, loaded only when no daemon answers (they load SQLite). */
export async function oneShot(): Promise<typeof import('../oneShot.js')> {
  return import('../oneShot.js');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
